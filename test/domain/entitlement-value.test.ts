import { describe, expect, it } from "vitest";
import {
  checkEntitlementValue,
  checkFeatureLevels,
  resolveOverrideValue,
  type EntitlementValue,
  type FeatureShape,
} from "../../src/domain/entitlement-value.ts";

const metered: FeatureShape = { key: "api-calls", type: "METERED", levels: [] };
const flag: FeatureShape = { key: "sso", type: "BOOLEAN", levels: [] };
const support: FeatureShape = {
  key: "support",
  type: "STATIC",
  levels: [
    { level: 1, name: "Email", value: "email", isUnlimited: false },
    { level: 2, name: "Chat", value: "chat", isUnlimited: false },
  ],
};
const fieldsOf = (result: ReturnType<typeof checkEntitlementValue>) => (result.ok ? [] : result.problems.map((p) => p.field));

describe("checkEntitlementValue", () => {
  it("a METERED value needs a limit or unlimited: a forgotten limit is not unlimited", () => {
    expect(fieldsOf(checkEntitlementValue(metered, {}))).toEqual(["usageLimit"]);
    expect(fieldsOf(checkEntitlementValue(metered, { isUnlimited: false }))).toEqual(["usageLimit"]);
    expect(fieldsOf(checkEntitlementValue(metered, { usageLimit: 5, isUnlimited: true }))).toEqual(["usageLimit"]);
    expect(checkEntitlementValue(metered, { usageLimit: 100 })).toEqual({
      ok: true,
      value: { isEnabled: true, usageLimit: 100, isUnlimited: false, resetPeriod: "MONTHLY", isSoftLimit: false, staticValue: null },
    });
    expect(checkEntitlementValue(metered, { isUnlimited: true, resetPeriod: "NEVER" })).toMatchObject({
      ok: true,
      value: { usageLimit: null, isUnlimited: true, resetPeriod: "NEVER" },
    });
  });

  it("a disabled METERED value needs no limit", () => {
    expect(checkEntitlementValue(metered, { isEnabled: false })).toMatchObject({
      ok: true,
      value: { isEnabled: false, usageLimit: null, isUnlimited: false },
    });
  });

  it("refuses fields that do not belong to the feature's type", () => {
    expect(fieldsOf(checkEntitlementValue(flag, { usageLimit: 3 }))).toEqual(["usageLimit"]);
    expect(fieldsOf(checkEntitlementValue(flag, { staticValue: "x" }))).toEqual(["staticValue"]);
    expect(fieldsOf(checkEntitlementValue(metered, { usageLimit: 1, staticValue: "x" }))).toEqual(["staticValue"]);
    expect(checkEntitlementValue(flag, { isSoftLimit: false })).toMatchObject({ ok: true });
  });

  it("a STATIC value is required when enabled and must be one of the feature's levels", () => {
    expect(fieldsOf(checkEntitlementValue(support, {}))).toEqual(["staticValue"]);
    expect(fieldsOf(checkEntitlementValue(support, { staticValue: "phone" }))).toEqual(["staticValue"]);
    expect(checkEntitlementValue(support, { staticValue: "chat" })).toMatchObject({ ok: true, value: { staticValue: "chat" } });
    expect(checkEntitlementValue({ ...support, levels: [] }, { staticValue: "anything" })).toMatchObject({ ok: true });
  });

  it("takes limits from 0 to 1e15, fractions included (GB, hours), exactly as given", () => {
    for (const usageLimit of [0, 1.5, 0.001, 2 ** 31, 3e9, 2 ** 53 / 10, 1e15]) {
      expect(checkEntitlementValue(metered, { usageLimit })).toMatchObject({ ok: true, value: { usageLimit } });
    }
  });

  it.each([
    [-1, "must be at least 0"],
    [-Number.MIN_VALUE, "must be at least 0"],
    [1e15 + 1, "must be at most 1e15"],
    [1.5e15, "must be at most 1e15"],
    [Number.MAX_VALUE, "must be at most 1e15"],
    [Number.NaN, "must be a finite number"],
    [Number.POSITIVE_INFINITY, "must be a finite number"],
    [Number.NEGATIVE_INFINITY, "must be a finite number"],
  ])("refuses a limit of %s, naming usageLimit (also on a disabled value)", (usageLimit, message) => {
    expect(checkEntitlementValue(metered, { usageLimit })).toEqual({ ok: false, problems: [{ field: "usageLimit", message }] });
    expect(checkEntitlementValue(metered, { usageLimit, isEnabled: false })).toEqual({
      ok: false,
      problems: [{ field: "usageLimit", message }],
    });
  });
});

describe("resolveOverrideValue", () => {
  const plan: EntitlementValue = {
    isEnabled: true,
    usageLimit: 100,
    isUnlimited: false,
    resetPeriod: "DAILY",
    isSoftLimit: true,
    staticValue: null,
  };

  it("inherits unset fields from the plan entitlement it replaces", () => {
    expect(resolveOverrideValue(metered, { usageLimit: 500 }, plan)).toEqual({ ...plan, usageLimit: 500 });
  });
  it("unlimited replaces the plan's limit, and a limit replaces the plan's unlimited", () => {
    expect(resolveOverrideValue(metered, { isUnlimited: true }, plan)).toMatchObject({ usageLimit: null, isUnlimited: true });
    expect(resolveOverrideValue(metered, { usageLimit: 7 }, { ...plan, usageLimit: null, isUnlimited: true })).toMatchObject({
      usageLimit: 7,
      isUnlimited: false,
    });
  });
  it("without a plan value, missing pieces fall to the safe side (no allowance)", () => {
    expect(resolveOverrideValue(metered, { isSoftLimit: false }, null)).toEqual({
      isEnabled: true,
      usageLimit: 0,
      isUnlimited: false,
      resetPeriod: "MONTHLY",
      isSoftLimit: false,
      staticValue: null,
    });
  });
});

describe("checkFeatureLevels", () => {
  it("sorts levels lowest first and refuses duplicates", () => {
    const result = checkFeatureLevels([
      { level: 10, name: "Ten", value: "10", isUnlimited: false },
      { level: 3, name: "Three", value: "3", isUnlimited: false },
    ]);
    expect(result.ok && result.levels.map((l) => l.level)).toEqual([3, 10]);
    const duplicate = checkFeatureLevels([
      { level: 1, name: "A", value: "a", isUnlimited: false },
      { level: 1, name: "B", value: "a", isUnlimited: false },
    ]);
    expect(duplicate.ok ? [] : duplicate.problems.map((p) => p.field)).toEqual(["levels.1.level", "levels.1.value"]);
  });
});
