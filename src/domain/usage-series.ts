// A usage series (docs/rules.md §9): [from, to) cut at the UTC boundaries of a window width,
// the first and last windows clipped to it, so that the windows of a usage period add up to
// that period's usage whatever its edges. Pure: src/services/usage-series.ts sums them.
import { bucketFloor, nextBucket } from "./usage-buckets.ts";

export type SeriesWindow = "MINUTE" | "HOUR" | "DAY" | "MONTH";

/** The most windows one series answers. */
export const MAX_SERIES_WINDOWS = 1000;

export interface SeriesWindowSpan {
  /** Where the UTC window of this width starts (before `start` for a clipped first window). */
  windowStart: number;
  start: number;
  end: number;
  /** Whether [start, end) is the whole window: then its aggregate row answers it. */
  whole: boolean;
}

/**
 * The windows of [from, to), oldest first; null when there would be more than `max` (the
 * caller refuses the request rather than build them).
 */
export function seriesWindows(window: SeriesWindow, from: number, to: number, max = MAX_SERIES_WINDOWS): SeriesWindowSpan[] | null {
  const windows: SeriesWindowSpan[] = [];
  for (let windowStart = bucketFloor(window, from); windowStart < to; windowStart = nextBucket(window, windowStart)) {
    if (windows.length === max) return null;
    const windowEnd = nextBucket(window, windowStart);
    const start = Math.max(from, windowStart);
    const end = Math.min(to, windowEnd);
    windows.push({ windowStart, start, end, whole: start === windowStart && end === windowEnd });
  }
  return windows;
}
