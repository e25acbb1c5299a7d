// The windows of a usage series (docs/rules.md §9): UTC boundaries, the first and last
// clipped to [from, to), none outside it, and a bound on how many.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seriesWindows } from "../../src/domain/usage-series.ts";

const ms = (iso: string) => new Date(iso).getTime();
const iso = (value: number) => new Date(value).toISOString();

describe("series windows", () => {
  it.each([
    [
      "whole days",
      "DAY",
      "2026-03-01T00:00:00Z",
      "2026-03-03T00:00:00Z",
      [
        ["2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z", true],
        ["2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z", true],
      ],
    ],
    [
      "edges off the boundary are clipped",
      "DAY",
      "2026-03-01T13:37:00Z",
      "2026-03-03T06:00:00Z",
      [
        ["2026-03-01T13:37:00.000Z", "2026-03-02T00:00:00.000Z", false],
        ["2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z", true],
        ["2026-03-03T00:00:00.000Z", "2026-03-03T06:00:00.000Z", false],
      ],
    ],
    [
      "months of their own lengths",
      "MONTH",
      "2026-01-15T00:00:00Z",
      "2026-03-01T00:00:00Z",
      [
        ["2026-01-15T00:00:00.000Z", "2026-02-01T00:00:00.000Z", false],
        ["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", true],
      ],
    ],
    [
      "a span inside one window",
      "HOUR",
      "2026-03-01T10:05:00Z",
      "2026-03-01T10:50:00Z",
      [["2026-03-01T10:05:00.000Z", "2026-03-01T10:50:00.000Z", false]],
    ],
  ] as const)("%s", (_name, window, from, to, expected) => {
    const windows = seriesWindows(window, ms(from), ms(to)) ?? [];
    expect(windows.map((w) => [iso(w.start), iso(w.end), w.whole])).toEqual(expected);
  });

  it("covers [from, to) exactly once, in order, for any span and width", () => {
    const WIDEST: Record<string, number> = { MINUTE: 900 * 60_000, HOUR: 900 * 3_600_000, DAY: 900 * 86_400_000, MONTH: 3000 * 86_400_000 };
    fc.assert(
      fc.property(
        fc.constantFrom("MINUTE", "HOUR", "DAY", "MONTH" as const),
        fc.integer({ min: 0, max: 3000 * 86_400_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (window, offset, share) => {
          const from = ms("2020-01-01T00:00:00Z") + offset;
          const to = from + 1 + Math.floor(share * (WIDEST[window] as number));
          const windows = seriesWindows(window, from, to) ?? [];
          expect(windows[0]?.start).toBe(from);
          expect(windows.at(-1)?.end).toBe(to);
          for (const [index, w] of windows.slice(1).entries()) expect(w.start).toBe(windows[index]?.end);
        },
      ),
    );
  });

  it("answers null past 1,000 windows, and 1,000 exactly is fine", () => {
    const from = ms("2026-01-01T00:00:00Z");
    expect(seriesWindows("DAY", from, from + 1000 * 86_400_000)).toHaveLength(1000);
    expect(seriesWindows("DAY", from, from + 1000 * 86_400_000 + 1)).toBeNull();
  });
});
