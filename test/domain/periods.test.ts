import { describe, expect, it } from "vitest";
import { periodAt, periodStart } from "../../src/domain/periods.ts";

const t = (iso: string) => new Date(iso);
const iso = (date: Date | null) => date?.toISOString() ?? null;

describe("usage periods", () => {
  it("step months from the anchor each time, clamping to the month's last day", () => {
    const anchor = t("2026-01-31T10:00:00Z");
    expect([0, 1, 2, 3, 4].map((k) => iso(periodStart(anchor, "MONTHLY", k)))).toEqual([
      "2026-01-31T10:00:00.000Z",
      "2026-02-28T10:00:00.000Z",
      "2026-03-31T10:00:00.000Z",
      "2026-04-30T10:00:00.000Z",
      "2026-05-31T10:00:00.000Z",
    ]);
    expect(iso(periodStart(anchor, "MONTHLY", -2))).toBe("2025-11-30T10:00:00.000Z");
  });

  it("keep leap days: Feb 29 in leap years, Feb 28 otherwise", () => {
    const anchor = t("2024-02-29T00:00:00Z");
    expect(iso(periodStart(anchor, "ANNUAL", 1))).toBe("2025-02-28T00:00:00.000Z");
    expect(iso(periodStart(anchor, "ANNUAL", 4))).toBe("2028-02-29T00:00:00.000Z");
    expect(iso(periodStart(t("2024-01-31T00:00:00Z"), "MONTHLY", 1))).toBe("2024-02-29T00:00:00.000Z");
  });

  it.each([
    ["DAILY", "2026-03-10T05:00:00Z", "2026-03-09T06:00:00.000Z", "2026-03-10T06:00:00.000Z"],
    ["DAILY", "2026-03-10T06:00:00Z", "2026-03-10T06:00:00.000Z", "2026-03-11T06:00:00.000Z"],
    ["WEEKLY", "2026-03-10T06:00:00Z", "2026-03-07T06:00:00.000Z", "2026-03-14T06:00:00.000Z"],
    ["MONTHLY", "2026-03-01T06:00:00Z", "2026-02-28T06:00:00.000Z", "2026-03-31T06:00:00.000Z"],
    ["MONTHLY", "2026-03-31T05:59:59.999Z", "2026-02-28T06:00:00.000Z", "2026-03-31T06:00:00.000Z"],
    ["MONTHLY", "2026-03-31T06:00:00Z", "2026-03-31T06:00:00.000Z", "2026-04-30T06:00:00.000Z"],
    ["QUARTERLY", "2026-05-01T00:00:00Z", "2026-04-30T06:00:00.000Z", "2026-07-31T06:00:00.000Z"],
    ["HALF_YEARLY", "2026-08-01T00:00:00Z", "2026-07-31T06:00:00.000Z", "2027-01-31T06:00:00.000Z"],
    ["ANNUAL", "2027-01-31T06:00:00Z", "2027-01-31T06:00:00.000Z", "2028-01-31T06:00:00.000Z"],
    ["MONTHLY", "2025-12-15T00:00:00Z", "2025-11-30T06:00:00.000Z", "2025-12-31T06:00:00.000Z"],
  ] as const)("%s period containing %s is [%s, %s) (anchor 2026-01-31T06:00Z; half-open)", (period, at, start, end) => {
    const found = periodAt(t("2026-01-31T06:00:00Z"), period, t(at));
    expect({ start: iso(found.start), end: iso(found.end) }).toEqual({ start, end });
  });

  it("NEVER is all time", () => {
    expect(periodAt(t("2026-01-01T00:00:00Z"), "NEVER", t("2030-01-01T00:00:00Z"))).toEqual({ start: null, end: null });
  });

  it("finds the period far from the anchor in either direction", () => {
    const anchor = t("2020-01-31T00:00:00Z");
    expect(iso(periodAt(anchor, "MONTHLY", t("2046-02-28T12:00:00Z")).start)).toBe("2046-02-28T00:00:00.000Z");
    expect(iso(periodAt(anchor, "DAILY", t("2019-01-01T12:00:00Z")).start)).toBe("2019-01-01T00:00:00.000Z");
  });
});
