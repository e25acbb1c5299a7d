// How a usage period is summed without reading its records one by one: the usage aggregates
// hold running sums per UTC bucket at several widths (MINUTE … YEAR, aligned as PostgreSQL's
// date_trunc aligns them in UTC), and a period [start, end) — any millisecond boundaries, open
// ends as infinities — is the sum of
// - whole buckets: the largest that fit, taken greedily from both edges inwards (at most two
//   ranges of bucket starts per width, and one in the middle at the widest that fits), and
// - the raw records of its partial minutes at each edge (less than a minute each, so their
//   number is bounded by the write rate, never by the history).
// Pure: the SQL that reads the ranges is in src/loaders/usage.ts.

/** Bucket widths, narrowest first (the names of the UsageBucketWidth enum, date_trunc's units in lower case). */
export const BUCKET_WIDTHS = ["MINUTE", "HOUR", "DAY", "MONTH", "YEAR"] as const;
export type BucketWidth = (typeof BUCKET_WIDTHS)[number];

const FIXED_MS: Partial<Record<BucketWidth, number>> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/** A UTC instant from calendar fields; unlike Date.UTC, years 0–99 are not moved to the 1900s. */
function utc(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 1);
  return date.getTime();
}

/** The start of the `width` bucket that contains `ms` (infinities stay as they are). */
export function bucketFloor(width: BucketWidth, ms: number): number {
  if (!Number.isFinite(ms)) return ms;
  const fixed = FIXED_MS[width];
  if (fixed !== undefined) return Math.floor(ms / fixed) * fixed;
  const date = new Date(ms);
  return utc(date.getUTCFullYear(), width === "MONTH" ? date.getUTCMonth() : 0);
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(width: BucketWidth, start: number): number {
  const fixed = FIXED_MS[width];
  if (fixed !== undefined) return start + fixed;
  const date = new Date(start);
  return width === "MONTH" ? utc(date.getUTCFullYear(), date.getUTCMonth() + 1) : utc(date.getUTCFullYear() + 1, 0);
}

/** The first bucket boundary at or after `ms`. */
function bucketCeil(width: BucketWidth, ms: number): number {
  const floor = bucketFloor(width, ms);
  return floor === ms ? ms : nextBucket(width, floor);
}

/** Instants [from, to) in milliseconds; ±Infinity for an open end. */
export interface Span {
  from: number;
  to: number;
}

/** The `width` buckets whose start is in [from, to): each lies wholly inside it. */
interface BucketRange extends Span {
  width: BucketWidth;
}

export interface PeriodSplit {
  buckets: BucketRange[];
  /** Spans shorter than a minute whose raw records are summed as they are. */
  raw: Span[];
}

/** Splits [start, end) into whole-bucket ranges and raw edges; together they cover it exactly once. */
export function splitPeriod(start: number, end: number): PeriodSplit {
  if (!(start < end)) return { buckets: [], raw: [] };
  let lo = bucketCeil("MINUTE", start);
  let hi = bucketFloor("MINUTE", end);
  if (lo >= hi) return { buckets: [], raw: [{ from: start, to: end }] };
  const raw = [
    { from: start, to: lo },
    { from: hi, to: end },
  ].filter((span) => span.from < span.to);
  const buckets: BucketRange[] = [];
  for (const [index, width] of BUCKET_WIDTHS.entries()) {
    const wider = BUCKET_WIDTHS[index + 1];
    const innerLo = wider ? bucketCeil(wider, lo) : hi;
    const innerHi = wider ? bucketFloor(wider, hi) : hi;
    if (!wider || innerLo >= innerHi) {
      buckets.push({ width, from: lo, to: hi });
      break;
    }
    if (lo < innerLo) buckets.push({ width, from: lo, to: innerLo });
    if (innerHi < hi) buckets.push({ width, from: innerHi, to: hi });
    lo = innerLo;
    hi = innerHi;
  }
  return { buckets, raw };
}
