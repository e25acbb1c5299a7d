// Half-open time windows [start, end); a null end is open-ended.

export interface Window {
  start: Date;
  end: Date | null;
}

export function windowCovers(window: Window, t: Date): boolean {
  return window.start.getTime() <= t.getTime() && (window.end === null || t.getTime() < window.end.getTime());
}

/** In force at t, or still to come: the window has not ended by t. */
export function notEndedBy(window: Pick<Window, "end">, t: Date): boolean {
  return window.end === null || t.getTime() < window.end.getTime();
}

export const isBefore = (a: Date, b: Date) => a.getTime() < b.getTime();
export const latest = (a: Date, b: Date) => (isBefore(a, b) ? b : a);
