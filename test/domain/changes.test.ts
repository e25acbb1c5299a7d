import { describe, expect, it } from "vitest";
import { changedFeatureKeys, type EntitlementSnapshot, type EntitlementView } from "../../src/domain/changes.ts";

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
