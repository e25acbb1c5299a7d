import { describe, expect, it } from "vitest";
import { entitlementsAt, type CustomerState } from "../../src/domain/entitlements.ts";
import type { EntitlementValue } from "../../src/domain/entitlement-value.ts";
import { boundariesToAnnounce, featuresFedBy, nextScanWindow } from "../../src/domain/transitions.ts";

const t = (iso: string) => new Date(`2026-03-01T12:00:${iso}Z`);
const window = { from: t("10.000"), to: t("10.500") };

describe("boundariesToAnnounce", () => {
  const longAgo = t("00.000");

  it("takes the instants after `from` up to and including `to`", () => {
    expect(boundariesToAnnounce(window, [t("10.000"), t("10.001"), t("10.500"), t("10.501"), null], longAgo)).toEqual([
      t("10.001"),
      t("10.500"),
    ]);
  });

  it("leaves out an instant the row's last write set at or before itself", () => {
    // Canceled "now": the cancel's own event already compared before and after.
    expect(boundariesToAnnounce(window, [t("10.200")], t("10.200"))).toEqual([]);
    expect(boundariesToAnnounce(window, [t("10.200")], t("10.300"))).toEqual([]);
    // Set a moment ahead: nobody has announced it yet.
    expect(boundariesToAnnounce(window, [t("10.200")], t("10.199"))).toEqual([t("10.200")]);
  });
});

describe("nextScanWindow", () => {
  it("continues where the last scan ended", () => {
    expect(nextScanWindow(t("10.000"), t("10.500"), 60_000)).toEqual(window);
  });

  it("has nothing to scan when the clock has not moved past the cursor", () => {
    expect(nextScanWindow(t("10.500"), t("10.500"), 60_000)).toBeNull();
    expect(nextScanWindow(t("10.600"), t("10.500"), 60_000)).toBeNull();
  });

  it("catches up at most maxCatchUpMs after a long pause", () => {
    expect(nextScanWindow(t("00.000"), t("10.500"), 1_000)).toEqual({ from: t("09.500"), to: t("10.500") });
  });
});

describe("featuresFedBy", () => {
  const value = (extra: Partial<EntitlementValue> = {}): EntitlementValue => ({
    isEnabled: true,
    usageLimit: 10,
    isUnlimited: false,
    resetPeriod: "MONTHLY",
    isSoftLimit: false,
    staticValue: null,
    ...extra,
  });
  const start = t("00.000");
  const state: CustomerState = {
    subscriptions: ["s1", "s2"].map((id) => ({
      id,
      startsAt: start,
      endsAt: null,
      trialEndsAt: null,
      canceledAt: null,
      billingAnchor: start,
      phases: [{ id: `${id}-phase`, planId: id === "s1" ? "pro" : "basic", quantity: 1, startsAt: start, endsAt: null }],
      addons: [],
      overrides: [],
    })),
    grants: [
      { id: "g1", featureId: "f-bonus", value: value(), amount: null, priority: 0, effectiveAt: start, expiresAt: null, voidedAt: null },
    ],
    planEntitlements: [
      { planId: "pro", featureId: "f-sso", value: value({ usageLimit: null, resetPeriod: null }) },
      { planId: "pro", featureId: "f-calls", value: value() },
      { planId: "basic", featureId: "f-calls", value: value() },
      { planId: "basic", featureId: "f-seats", value: value() },
    ],
    plans: new Map([
      ["pro", { id: "pro", name: "Pro" }],
      ["basic", { id: "basic", name: "Basic" }],
    ]),
    features: new Map(
      ["sso", "calls", "seats", "bonus"].map((key) => [
        `f-${key}`,
        { id: `f-${key}`, key, type: key === "sso" ? ("BOOLEAN" as const) : ("METERED" as const), levels: [], alertThresholds: [] },
      ]),
    ),
  };
  const entitlements = entitlementsAt(state, t("05.000"));
  const none = new Set<string>();

  it("names the features a subscription feeds, shared ones included", () => {
    expect([...featuresFedBy(entitlements, { subscriptionIds: new Set(["s1"]), grantIds: none })].sort()).toEqual(["calls", "sso"]);
  });

  it("names a grant's feature only", () => {
    expect([...featuresFedBy(entitlements, { subscriptionIds: none, grantIds: new Set(["g1"]) })]).toEqual(["bonus"]);
  });

  it("names nothing for sources the customer does not have", () => {
    expect(featuresFedBy(entitlements, { subscriptionIds: new Set(["other"]), grantIds: new Set(["other"]) }).size).toBe(0);
  });
});
