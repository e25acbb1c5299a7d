// Usage periods (docs/rules.md §5): period k starts at anchor + k × resetPeriod in UTC calendar
// units, computed from the anchor each time, months clamped to their last day
// (anchor Jan 31 → Feb 28 → Mar 31 → Apr 30). NEVER: one period, all time.
import type { ResetPeriod } from "./entitlement-value.ts";

export interface Period {
  /** Null with NEVER: all usage ever. */
  start: Date | null;
  end: Date | null;
}

const DAY_MS = 86_400_000;
const MONTHS: Partial<Record<ResetPeriod, number>> = { MONTHLY: 1, QUARTERLY: 3, HALF_YEARLY: 6, ANNUAL: 12 };
const DAYS: Partial<Record<ResetPeriod, number>> = { DAILY: 1, WEEKLY: 7 };

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

function addMonthsClamped(anchor: Date, months: number): Date {
  const totalMonths = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month));
  return new Date(
    Date.UTC(year, month, day, anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds(), anchor.getUTCMilliseconds()),
  );
}

/** The start of period k (k may be negative). */
export function periodStart(anchor: Date, resetPeriod: Exclude<ResetPeriod, "NEVER">, k: number): Date {
  const days = DAYS[resetPeriod];
  if (days !== undefined) return new Date(anchor.getTime() + k * days * DAY_MS);
  return addMonthsClamped(anchor, k * (MONTHS[resetPeriod] ?? 1));
}

/** The usage period that contains t. */
export function periodAt(anchor: Date, resetPeriod: ResetPeriod, t: Date): Period {
  if (resetPeriod === "NEVER") return { start: null, end: null };
  const approximateLength = (DAYS[resetPeriod] ?? (MONTHS[resetPeriod] ?? 1) * 30.44) * DAY_MS;
  let k = Math.floor((t.getTime() - anchor.getTime()) / approximateLength);
  while (periodStart(anchor, resetPeriod, k).getTime() > t.getTime()) k--;
  while (periodStart(anchor, resetPeriod, k + 1).getTime() <= t.getTime()) k++;
  return { start: periodStart(anchor, resetPeriod, k), end: periodStart(anchor, resetPeriod, k + 1) };
}

/** Whether `t` falls in the half-open period (NEVER's, with no bounds, holds every instant). */
export const periodHolds = (period: Period | null, t: Date) =>
  (period?.start == null || period.start.getTime() <= t.getTime()) && (period?.end == null || t.getTime() < period.end.getTime());
