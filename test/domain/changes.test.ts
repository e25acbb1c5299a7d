import { describe, expect, it } from "vitest";
import {
  changedFeatureKeys,
  usageCanFlipAccess,
  usageFlippedAccess,
  type EntitlementSnapshot,
  type EntitlementView,
} from "../../src/domain/changes.ts";
import type { Entitlement } from "../../src/domain/entitlements.ts";

const view = (overrides: Partial<EntitlementView> = {}): EntitlementView => ({
  isEnabled: true,
  usageLimit: 10,
  isUnlimited: false,
  isSoftLimit: false,
  resetPeriod: "MONTHLY",
  staticValues: [],
  hasAccess: true,
  ...overrides,
});
const snapshot = (entries: Record<string, EntitlementView>): EntitlementSnapshot => new Map(Object.entries(entries));

describe("changedFeatureKeys (docs/rules.md §6)", () => {
  it("is empty when nothing observable changed", () => {
    expect(changedFeatureKeys(snapshot({ a: view() }), snapshot({ a: view() }))).toEqual([]);
  });

  it.each([
    ["isEnabled", { isEnabled: false }],
    ["usageLimit", { usageLimit: 11 }],
    ["isUnlimited", { isUnlimited: true, usageLimit: null }],
    ["isSoftLimit", { isSoftLimit: true }],
    ["resetPeriod", { resetPeriod: "DAILY" as const }],
    ["staticValues order", { staticValues: ["b", "a"] }],
    ["hasAccess", { hasAccess: false }],
  ])("notices %s", (_name, change) => {
    const before = snapshot({ a: view({ staticValues: ["a", "b"] }), b: view() });
    const after = snapshot({ a: view({ staticValues: ["a", "b"], ...change }), b: view() });
    expect(changedFeatureKeys(before, after)).toEqual(["a"]);
  });

  it("notices features that appear or go, in key order", () => {
    expect(changedFeatureKeys(snapshot({ b: view(), c: view() }), snapshot({ a: view(), c: view() }))).toEqual(["a", "b"]);
  });
});

const PERIOD = { start: new Date("2026-03-01T00:00:00Z"), end: new Date("2026-04-01T00:00:00Z") };
const metered = (overrides: Partial<Entitlement> = {}): Entitlement => ({
  feature: { id: "f", key: "api-calls", type: "METERED", levels: [], alertThresholds: [] },
  isEnabled: true,
  usageLimit: 100,
  isUnlimited: false,
  isSoftLimit: false,
  resetPeriod: "MONTHLY",
  staticValues: [],
  activeFrom: PERIOD.start,
  activeTo: null,
  sources: [],
  period: PERIOD,
  credits: [],
  ...overrides,
});

describe("usageCanFlipAccess: what a usage record can change (docs/rules.md §6)", () => {
  const inPeriod = new Date("2026-03-15T00:00:00Z");
  it.each([
    ["an enabled hard limit, the record in the period", metered(), inPeriod, true],
    ["the period's first instant", metered(), PERIOD.start, true],
    ["the period's end (half-open: the next period's)", metered(), PERIOD.end, false],
    ["a late record of an earlier period", metered(), new Date("2026-02-27T00:00:00Z"), false],
    ["NEVER: one period holding every instant", metered({ resetPeriod: "NEVER", period: { start: null, end: null } }), new Date(0), true],
    ["an unlimited entitlement", metered({ isUnlimited: true, usageLimit: null }), inPeriod, false],
    ["a soft limit", metered({ isSoftLimit: true }), inPeriod, false],
    ["a disabled entitlement", metered({ isEnabled: false }), inPeriod, false],
    [
      "a BOOLEAN feature",
      metered({ feature: { id: "f", key: "sso", type: "BOOLEAN", levels: [], alertThresholds: [] }, period: null }),
      inPeriod,
      false,
    ],
  ])("%s", (_name, entitlement, timestamp, expected) => {
    expect(usageCanFlipAccess(entitlement, timestamp)).toBe(expected);
  });
});

describe("usageFlippedAccess: did adding usage cross the limit (either way)?", () => {
  it.each([
    ["99 → 100 of 100: reached", 100, 1, true],
    ["98 → 99: still under", 99, 1, false],
    ["100 → 101: already over", 101, 1, false],
    ["100 → 99 (given back): freed", 99, -1, true],
    ["95 → 105 (a batch): reached", 105, 10, true],
    ["99 → 99 (+1 and −1 in one batch): unchanged", 99, 0, false],
  ])("%s", (_name, usedAfter, added, expected) => {
    expect(usageFlippedAccess(metered(), usedAfter, added)).toBe(expected);
  });
});
