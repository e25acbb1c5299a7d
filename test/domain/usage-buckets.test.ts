import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUCKET_WIDTHS, bucketFloor, splitPeriod, type PeriodSplit } from "../../src/domain/usage-buckets.ts";

const ms = (iso: string) => Date.parse(iso);
const iso = (value: number) => (Number.isFinite(value) ? new Date(value).toISOString() : String(value));

/** How many pieces of a split hold instant t: exactly one inside the period, none outside. */
function coverage(split: PeriodSplit, t: number): number {
  const inBuckets = split.buckets.filter((range) => {
    const start = bucketFloor(range.width, t);
    return start >= range.from && start < range.to;
  }).length;
  return inBuckets + split.raw.filter((span) => t >= span.from && t < span.to).length;
}

const MINUTE = 60_000;
const YEAR_2000 = ms("2000-01-01T00:00:00Z");
const YEAR_2100 = ms("2100-01-01T00:00:00Z");
/** Instants, often on or one millisecond beside a bucket edge. */
const instant = fc.oneof(
  fc.integer({ min: YEAR_2000, max: YEAR_2100 }),
  fc
    .tuple(fc.integer({ min: YEAR_2000, max: YEAR_2100 }), fc.constantFrom(...BUCKET_WIDTHS), fc.constantFrom(-1, 0, 1))
    .map(([t, width, offset]) => bucketFloor(width, t) + offset),
);

describe("splitting a usage period into whole buckets and raw edges", () => {
  it("covers every instant of [start, end) exactly once and none outside it, with a bounded number of pieces", () => {
    fc.assert(
      fc.property(
        instant,
        instant,
        fc.array(fc.oneof(instant, fc.integer({ min: -2 * MINUTE, max: 2 * MINUTE })), { maxLength: 20 }),
        (a, b, probes) => {
          const [start, end] = a <= b ? [a, b] : [b, a];
          const split = splitPeriod(start, end);
          expect(split.buckets.length).toBeLessThanOrEqual(2 * (BUCKET_WIDTHS.length - 1) + 1);
          expect(split.raw.length).toBeLessThanOrEqual(2);
          for (const span of split.raw) expect(span.to - span.from).toBeLessThan(2 * MINUTE);
          // Probes around the edges as well as anywhere.
          for (const probe of [...probes, start, end, start - 1, end - 1, start + 1]) {
            const t = Math.abs(probe) <= 2 * MINUTE ? start + probe : probe;
            expect(coverage(split, t), `t=${iso(t)} in [${iso(start)}, ${iso(end)})`).toBe(t >= start && t < end ? 1 : 0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("takes the largest buckets that fit, from both edges inwards", () => {
    const split = splitPeriod(ms("2026-01-31T06:30:15.250Z"), ms("2026-03-02T00:01:00.500Z"));
    expect(split.raw.map((span) => [iso(span.from), iso(span.to)])).toEqual([
      ["2026-01-31T06:30:15.250Z", "2026-01-31T06:31:00.000Z"],
      ["2026-03-02T00:01:00.000Z", "2026-03-02T00:01:00.500Z"],
    ]);
    expect(split.buckets.map((range) => [range.width, iso(range.from), iso(range.to)])).toEqual([
      ["MINUTE", "2026-01-31T06:31:00.000Z", "2026-01-31T07:00:00.000Z"],
      ["MINUTE", "2026-03-02T00:00:00.000Z", "2026-03-02T00:01:00.000Z"],
      ["HOUR", "2026-01-31T07:00:00.000Z", "2026-02-01T00:00:00.000Z"],
      ["DAY", "2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z"],
      ["MONTH", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
    ]);
  });

  it("answers all time (open ends) with the years alone, and a half-open period with one open range", () => {
    expect(splitPeriod(-Infinity, Infinity)).toEqual({ buckets: [{ width: "YEAR", from: -Infinity, to: Infinity }], raw: [] });
    const since = splitPeriod(ms("2026-12-31T23:59:30Z"), Infinity);
    expect(since.raw).toEqual([{ from: ms("2026-12-31T23:59:30Z"), to: ms("2027-01-01T00:00:00Z") }]);
    expect(since.buckets).toEqual([{ width: "YEAR", from: ms("2027-01-01T00:00:00Z"), to: Infinity }]);
  });

  it("reads a period shorter than a whole minute from raw records alone, and an empty one not at all", () => {
    const start = ms("2026-05-05T10:00:30Z");
    expect(splitPeriod(start, start + 45_000)).toEqual({ buckets: [], raw: [{ from: start, to: start + 45_000 }] });
    expect(splitPeriod(start, start)).toEqual({ buckets: [], raw: [] });
  });

  it("aligns months and years in UTC, leap days and early years included", () => {
    expect(iso(bucketFloor("MONTH", ms("2024-02-29T23:59:59.999Z")))).toBe("2024-02-01T00:00:00.000Z");
    expect(iso(bucketFloor("YEAR", ms("0050-06-01T00:00:00Z")))).toBe("0050-01-01T00:00:00.000Z");
    expect(iso(bucketFloor("DAY", ms("1969-12-31T12:00:00Z")))).toBe("1969-12-31T00:00:00.000Z");
  });
});
