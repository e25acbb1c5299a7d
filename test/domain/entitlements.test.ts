import { describe, expect, it } from "vitest";
import {
  createEntitlementsMemo,
  entitlementsAt,
  nextChangeAfter,
  type CustomerState,
  type Entitlement,
  type FeatureInfo,
  type GrantRow,
  type SubscriptionRow,
} from "../../src/domain/entitlements.ts";
import { check, hasAccess, usageSummary } from "../../src/domain/checks.ts";
import type { EntitlementValue } from "../../src/domain/entitlement-value.ts";

const t = (iso: string) => new Date(iso);
const JAN = t("2026-01-01T00:00:00Z");
const NOW = t("2026-03-15T12:00:00Z");

const metered = (usageLimit: number | null, extra: Partial<EntitlementValue> = {}): EntitlementValue => ({
  isEnabled: true,
  usageLimit: usageLimit,
  isUnlimited: usageLimit === null,
  resetPeriod: "MONTHLY",
  isSoftLimit: false,
  staticValue: null,
  ...extra,
});
const flag = (isEnabled = true): EntitlementValue => ({
  isEnabled,
  usageLimit: null,
  isUnlimited: false,
  resetPeriod: null,
  isSoftLimit: false,
  staticValue: null,
});
const staticValue = (value: string): EntitlementValue => ({ ...flag(), staticValue: value });

const features: FeatureInfo[] = [
  { id: "f-calls", key: "api-calls", type: "METERED", levels: [], alertThresholds: [] },
  { id: "f-sso", key: "sso", type: "BOOLEAN", levels: [], alertThresholds: [] },
  {
    id: "f-support",
    key: "support-level",
    type: "STATIC",
    levels: [
      { level: 1, name: "Email", value: "email", isUnlimited: false },
      { level: 2, name: "Chat", value: "chat", isUnlimited: false },
      { level: 3, name: "Calls", value: "calls", isUnlimited: false },
    ],
    alertThresholds: [],
  },
  { id: "f-region", key: "region", type: "STATIC", levels: [], alertThresholds: [] },
];

function subscription(id: string, planId: string, extra: Partial<SubscriptionRow> = {}): SubscriptionRow {
  return {
    id,
    startsAt: JAN,
    endsAt: null,
    trialEndsAt: null,
    canceledAt: null,
    billingAnchor: JAN,
    phases: [{ id: `${id}-p1`, planId, quantity: 1, startsAt: JAN, endsAt: null }],
    addons: [],
    overrides: [],
    ...extra,
  };
}
function grant(id: string, featureId: string, value: EntitlementValue, extra: Partial<GrantRow> = {}): GrantRow {
  return { id, featureId, value, amount: null, priority: 0, effectiveAt: JAN, expiresAt: null, voidedAt: null, ...extra };
}
function state(parts: Partial<CustomerState>): CustomerState {
  return {
    subscriptions: [],
    grants: [],
    planEntitlements: [
      { planId: "basic", featureId: "f-calls", value: metered(100) },
      { planId: "basic", featureId: "f-support", value: staticValue("email") },
      { planId: "pro", featureId: "f-calls", value: metered(1000, { isSoftLimit: true, resetPeriod: "DAILY" }) },
      { planId: "pro", featureId: "f-sso", value: flag() },
      { planId: "pro", featureId: "f-support", value: staticValue("chat") },
      { planId: "boost", featureId: "f-calls", value: metered(50) },
      { planId: "unlimited", featureId: "f-calls", value: metered(null) },
      { planId: "off", featureId: "f-sso", value: flag(false) },
    ],
    plans: new Map(["basic", "pro", "boost", "unlimited", "off"].map((id) => [id, { id, name: id.toUpperCase() }])),
    features: new Map(features.map((feature) => [feature.id, feature])),
    ...parts,
  };
}
type FeatureKey = "api-calls" | "sso" | "support-level" | "region" | "user-licenses" | "xero-integration";
/** The entitlements by feature key (a missing key reads as undefined). */
const byKey = (customer: CustomerState, at = NOW) =>
  Object.fromEntries(entitlementsAt(customer, at).map((e) => [e.feature.key, e])) as Record<FeatureKey, Entitlement>;

describe("sources active at t (docs/rules.md §3)", () => {
  it("a plan gives its features, the limit multiplied by the phase quantity", () => {
    const e = byKey(
      state({
        subscriptions: [subscription("s1", "basic", { phases: [{ id: "p", planId: "basic", quantity: 3, startsAt: JAN, endsAt: null }] })],
      }),
    );
    expect(Object.keys(e)).toEqual(["api-calls", "support-level"]);
    expect(e["api-calls"]).toMatchObject({ isEnabled: true, usageLimit: 300, isUnlimited: false, resetPeriod: "MONTHLY" });
    expect(e["api-calls"].sources).toMatchObject([
      {
        type: "PLAN",
        entity: { type: "Plan", id: "basic" },
        entityName: "BASIC",
        quantity: 3,
        unitUsageLimit: 100,
        usageLimit: 300,
        subscriptionId: "s1",
      },
    ]);
  });

  it.each([
    ["before the start", {}, "2025-12-31T23:59:59.999Z", false],
    ["at the start", {}, "2026-01-01T00:00:00Z", true],
    ["in trial", { trialEndsAt: t("2026-04-01T00:00:00Z") }, "2026-03-31T23:59:59Z", true],
    ["after the trial", { trialEndsAt: t("2026-04-01T00:00:00Z") }, "2026-04-01T00:00:00Z", true],
    ["just before a cancellation", { canceledAt: t("2026-05-01T00:00:00Z") }, "2026-04-30T23:59:59.999Z", true],
    ["at the cancellation", { canceledAt: t("2026-05-01T00:00:00Z") }, "2026-05-01T00:00:00Z", false],
    ["at the end", { endsAt: t("2026-05-01T00:00:00Z") }, "2026-05-01T00:00:00Z", false],
  ] as const)("subscription %s → entitles: %s", (_name, times, at, entitles) => {
    const e = byKey(state({ subscriptions: [subscription("s1", "basic", times)] }), t(at));
    expect("api-calls" in e).toBe(entitles);
  });

  it("follows the phase in force: a plan change at t switches sources at t", () => {
    const phases = [
      { id: "p1", planId: "basic", quantity: 1, startsAt: JAN, endsAt: t("2026-03-01T00:00:00Z") },
      { id: "p2", planId: "pro", quantity: 2, startsAt: t("2026-03-01T00:00:00Z"), endsAt: null },
    ];
    const customer = state({ subscriptions: [subscription("s1", "basic", { phases })] });
    expect(byKey(customer, t("2026-02-28T23:59:59Z"))["api-calls"].usageLimit).toBe(100);
    const after = byKey(customer, t("2026-03-01T00:00:00Z"));
    expect(after["api-calls"]).toMatchObject({ usageLimit: 2000, isSoftLimit: true, activeFrom: t("2026-03-01T00:00:00Z") });
    expect(after.sso.isEnabled).toBe(true);
  });

  it("an add-on counts within its own window and the subscription's, times its quantity", () => {
    const addons = [{ id: "a1", addonId: "boost", quantity: 2, startsAt: t("2026-02-01T00:00:00Z"), endsAt: t("2026-04-01T00:00:00Z") }];
    const customer = state({ subscriptions: [subscription("s1", "basic", { addons })] });
    expect(byKey(customer, t("2026-01-31T23:59:59Z"))["api-calls"].usageLimit).toBe(100);
    const inside = byKey(customer, t("2026-02-01T00:00:00Z"))["api-calls"];
    expect(inside.usageLimit).toBe(200);
    expect(inside.sources.map((s) => s.type)).toEqual(["PLAN", "ADDON"]);
    expect(inside.activeTo).toBeNull(); // the plan source is open-ended
    expect(byKey(customer, t("2026-04-01T00:00:00Z"))["api-calls"].usageLimit).toBe(100);
  });

  it("the same add-on twice stacks", () => {
    const addons = [
      { id: "a1", addonId: "boost", quantity: 1, startsAt: JAN, endsAt: null },
      { id: "a2", addonId: "boost", quantity: 3, startsAt: JAN, endsAt: null },
    ];
    expect(byKey(state({ subscriptions: [subscription("s1", "basic", { addons })] }))["api-calls"].usageLimit).toBe(100 + 50 + 150);
  });

  it("an override replaces its own subscription's plan value only, inheriting unset fields", () => {
    const s1 = subscription("s1", "pro", { overrides: [{ id: "o1", featureId: "f-calls", value: { usageLimit: 5000 } }] });
    const s2 = subscription("s2", "pro");
    const e = byKey(state({ subscriptions: [s1, s2] }))["api-calls"];
    expect(e.sources.map((s) => [s.type, s.subscriptionId, s.usageLimit, s.isSoftLimit, s.resetPeriod])).toEqual([
      ["SUBSCRIPTION", "s1", 5000, true, "DAILY"],
      ["PLAN", "s2", 1000, true, "DAILY"],
    ]);
    expect(e.usageLimit).toBe(6000);
    expect(e.sources[0]?.entity).toEqual({ type: "SubscriptionOverride", id: "o1" });
  });

  it("grants count over [effectiveAt, min(expiresAt, voidedAt))", () => {
    const customer = state({
      grants: [
        grant("g1", "f-sso", flag(), {
          effectiveAt: t("2026-03-01T00:00:00Z"),
          expiresAt: t("2026-04-01T00:00:00Z"),
          voidedAt: t("2026-03-20T00:00:00Z"),
        }),
      ],
    });
    expect(byKey(customer, t("2026-02-28T23:59:59Z")).sso).toBeUndefined();
    expect(byKey(customer, t("2026-03-01T00:00:00Z")).sso.sources).toMatchObject([
      { type: "GRANT", quantity: 1, entity: { type: "Grant", id: "g1" } },
    ]);
    expect(byKey(customer, t("2026-03-19T23:59:59Z")).sso.activeTo).toEqual(t("2026-03-20T00:00:00Z"));
    expect(byKey(customer, t("2026-03-20T00:00:00Z")).sso).toBeUndefined();
  });
});

describe("aggregation (docs/rules.md §4)", () => {
  it("sums enabled contributions; unlimited wins; disabled sources are listed but give nothing", () => {
    const limited = state({
      subscriptions: [subscription("s1", "basic"), subscription("s2", "off")],
      grants: [grant("g1", "f-calls", metered(10, { isEnabled: false }))],
    });
    const e = byKey(limited);
    expect(e["api-calls"]).toMatchObject({ usageLimit: 100, isUnlimited: false });
    expect(e["api-calls"].sources.map((s) => [s.type, s.isEnabled])).toEqual([
      ["GRANT", false],
      ["PLAN", true],
    ]);
    expect(e.sso).toMatchObject({ isEnabled: false, activeFrom: null, activeTo: null });
    expect(hasAccess(e.sso, 0)).toBe(false);

    const unlimited = byKey(state({ subscriptions: [subscription("s1", "basic"), subscription("s2", "unlimited")] }))["api-calls"];
    expect(unlimited).toMatchObject({ usageLimit: null, isUnlimited: true });
  });

  it("orders sources SUBSCRIPTION, GRANT (higher priority first), PLAN, ADDON, then earlier start, then id", () => {
    const customer = state({
      subscriptions: [
        subscription("s1", "basic", {
          overrides: [{ id: "o1", featureId: "f-calls", value: { usageLimit: 1 } }],
          addons: [{ id: "a1", addonId: "boost", quantity: 1, startsAt: JAN, endsAt: null }],
        }),
        subscription("s2", "basic", {
          startsAt: t("2026-02-01T00:00:00Z"),
          phases: [{ id: "p", planId: "basic", quantity: 1, startsAt: t("2026-02-01T00:00:00Z"), endsAt: null }],
        }),
        subscription("s0", "basic"),
      ],
      grants: [grant("g-low", "f-calls", metered(1)), grant("g-high", "f-calls", metered(1), { priority: 5 })],
    });
    const order = byKey(customer)["api-calls"].sources.map((s) => `${s.type}:${s.subscriptionId ?? s.entity.id}`);
    expect(order).toEqual(["SUBSCRIPTION:s1", "GRANT:g-high", "GRANT:g-low", "PLAN:s0", "PLAN:s2", "ADDON:s1"]);
  });

  it("resetPeriod, softness and the period anchor come from the best enabled source", () => {
    const customer = state({
      subscriptions: [subscription("s1", "pro", { billingAnchor: t("2026-01-10T00:00:00Z") })],
      grants: [grant("g1", "f-calls", metered(5, { resetPeriod: "WEEKLY" }), { effectiveAt: t("2026-03-02T00:00:00Z") })],
    });
    const e = byKey(customer)["api-calls"];
    expect(e).toMatchObject({ resetPeriod: "WEEKLY", isSoftLimit: true, usageLimit: 1005 });
    // Weekly periods aligned with the subscription's billing anchor, not the grant.
    expect(e.period).toEqual({ start: t("2026-03-14T00:00:00Z"), end: t("2026-03-21T00:00:00Z") });

    const grantOnly = byKey(
      state({ grants: [grant("g1", "f-calls", metered(5, { resetPeriod: "WEEKLY" }), { effectiveAt: t("2026-03-02T00:00:00Z") })] }),
    )["api-calls"];
    expect(grantOnly.period).toEqual({ start: t("2026-03-09T00:00:00Z"), end: t("2026-03-16T00:00:00Z") });
  });

  it("ranks static values by level, highest first, else by precedence", () => {
    const customer = state({
      subscriptions: [subscription("s1", "basic"), subscription("s2", "pro")],
      grants: [grant("g1", "f-region", staticValue("eu")), grant("g2", "f-region", staticValue("us"), { priority: 3 })],
    });
    const e = byKey(customer);
    expect(e["support-level"].staticValues).toEqual(["chat", "email"]);
    expect(e.region.staticValues).toEqual(["us", "eu"]);
    expect(e.sso.staticValues).toEqual([]);
  });

  it("activeFrom is the earliest enabled start; activeTo the latest end, null when any is open", () => {
    const customer = state({
      grants: [
        grant("g1", "f-sso", flag(), { effectiveAt: t("2026-03-01T00:00:00Z"), expiresAt: t("2026-04-01T00:00:00Z") }),
        grant("g2", "f-sso", flag(), { effectiveAt: t("2026-02-01T00:00:00Z"), expiresAt: t("2026-05-01T00:00:00Z") }),
      ],
    });
    expect(byKey(customer).sso).toMatchObject({ activeFrom: t("2026-02-01T00:00:00Z"), activeTo: t("2026-05-01T00:00:00Z") });
  });

  it("lists features by key and honours filters; a subscription filter drops grants", () => {
    const customer = state({
      subscriptions: [subscription("s1", "basic"), subscription("s2", "pro")],
      grants: [grant("g1", "f-region", staticValue("eu"))],
    });
    expect(entitlementsAt(customer, NOW).map((e) => e.feature.key)).toEqual(["api-calls", "region", "sso", "support-level"]);
    expect(entitlementsAt(customer, NOW, { types: ["STATIC"] }).map((e) => e.feature.key)).toEqual(["region", "support-level"]);
    expect(entitlementsAt(customer, NOW, { featureKeys: ["sso"] }).map((e) => e.feature.key)).toEqual(["sso"]);
    const onlyS1 = entitlementsAt(customer, NOW, { subscriptionIds: ["s1"] });
    expect(onlyS1.map((e) => e.feature.key)).toEqual(["api-calls", "support-level"]);
    expect(onlyS1[0]?.usageLimit).toBe(100);
  });

  it("Chargebee's example: two subscriptions stack licences and rank support levels", () => {
    const licences: FeatureInfo = {
      id: "f-lic",
      key: "user-licenses",
      type: "METERED",
      levels: [3, 10, 25].map((n) => ({ level: n, name: String(n), value: String(n), isUnlimited: false })),
      alertThresholds: [],
    };
    const xero: FeatureInfo = { id: "f-xero", key: "xero-integration", type: "BOOLEAN", levels: [], alertThresholds: [] };
    const customer = state({
      features: new Map([...features, licences, xero].map((f) => [f.id, f])),
      planEntitlements: [
        { planId: "p1", featureId: "f-lic", value: metered(3, { resetPeriod: "NEVER" }) },
        { planId: "p1", featureId: "f-support", value: staticValue("email") },
        { planId: "p2", featureId: "f-lic", value: metered(10, { resetPeriod: "NEVER" }) },
        { planId: "p2", featureId: "f-support", value: staticValue("chat") },
        { planId: "p2", featureId: "f-xero", value: flag() },
      ],
      subscriptions: [subscription("s1", "p1"), subscription("s2", "p2")],
    });
    const e = byKey(customer);
    expect(e["user-licenses"]).toMatchObject({ usageLimit: 13, resetPeriod: "NEVER", period: { start: null, end: null } });
    expect(e["user-licenses"].sources.map((s) => s.subscriptionId)).toEqual(["s1", "s2"]);
    expect(e["support-level"].staticValues).toEqual(["chat", "email"]);
    expect(e["xero-integration"].isEnabled).toBe(true);
  });
});

describe("usage, access and checks (docs/rules.md §5)", () => {
  const hard = byKey(state({ subscriptions: [subscription("s1", "basic")] }))["api-calls"];
  const soft = byKey(state({ subscriptions: [subscription("s1", "pro")] }))["api-calls"];
  const unlimited = byKey(state({ subscriptions: [subscription("s1", "unlimited")] }))["api-calls"];

  it.each([
    ["under a hard limit", hard, 99, 1, { allowed: true, reason: "ENTITLED" }, true],
    ["at a hard limit", hard, 100, 1, { allowed: false, reason: "LIMIT_EXCEEDED" }, false],
    ["a request that would cross a hard limit", hard, 90, 11, { allowed: false, reason: "LIMIT_EXCEEDED" }, true],
    ["over a soft limit", soft, 1000, 5, { allowed: true, reason: "SOFT_LIMIT_EXCEEDED" }, true],
    ["unlimited", unlimited, 1e9, 1e6, { allowed: true, reason: "ENTITLED" }, true],
  ] as const)("%s", (_name, entitlement, used, quantity, expected, access) => {
    expect(check(entitlement!, used, quantity)).toEqual(expected);
    expect(hasAccess(entitlement!, used)).toBe(access);
  });

  it("no entitlement, or a disabled one, is NOT_ENTITLED", () => {
    expect(check(null, 0)).toEqual({ allowed: false, reason: "NOT_ENTITLED" });
    const off = byKey(state({ subscriptions: [subscription("s1", "off")] })).sso;
    expect(check(off!, 0)).toEqual({ allowed: false, reason: "NOT_ENTITLED" });
  });

  it("remaining is the limit less the usage (negative past a soft limit), null when unlimited", () => {
    expect(usageSummary(hard!, 30)).toEqual({ used: 30, remaining: 70, creditsRemaining: 0, available: 70 });
    expect(usageSummary(soft!, 1200)).toEqual({ used: 1200, remaining: -200, creditsRemaining: 0, available: 0 });
    expect(usageSummary(unlimited!, 5)).toEqual({ used: 5, remaining: null, creditsRemaining: 0, available: null });
    // Credits add to what is available, not to what remains of the limit.
    expect(usageSummary(hard!, 130, 50)).toEqual({ used: 130, remaining: -30, creditsRemaining: 50, available: 50 });
  });
});

describe("credits in the aggregate and in checks (docs/rules.md §8)", () => {
  const credit = (id: string, amount: number, extra: Partial<GrantRow> = {}) =>
    grant(id, "f-calls", metered(null), { amount, effectiveAt: t("2026-02-10T00:00:00Z"), ...extra });

  it("are sources of 0 with no say in the limit, period or softness, listed in burn-down order", () => {
    const e = byKey(
      state({
        subscriptions: [subscription("s1", "basic")],
        grants: [credit("c1", 50), credit("c2", 20, { priority: 3 }), credit("c3", 10, { expiresAt: t("2026-04-01T00:00:00Z") })],
      }),
    )["api-calls"];
    expect(e).toMatchObject({ usageLimit: 100, isUnlimited: false, isSoftLimit: false, resetPeriod: "MONTHLY" });
    expect(e.period).toEqual({ start: t("2026-03-01T00:00:00Z"), end: t("2026-04-01T00:00:00Z") });
    expect(e.sources.filter((source) => source.type === "GRANT").map((source) => source.usageLimit)).toEqual([0, 0, 0]);
    expect(e.credits.map((c) => c.grantId)).toEqual(["c2", "c3", "c1"]);
  });

  it("alone make an entitlement of usageLimit 0 with no reset period, counting usage since the earliest credit began", () => {
    const e = byKey(state({ grants: [credit("c1", 50), credit("c2", 5, { effectiveAt: t("2026-01-20T00:00:00Z") })] }))["api-calls"];
    expect(e).toMatchObject({ isEnabled: true, usageLimit: 0, resetPeriod: null, activeFrom: t("2026-01-20T00:00:00Z") });
    expect(e.period).toEqual({ start: t("2026-01-20T00:00:00Z"), end: null });
    // Access while they hold something.
    expect(hasAccess(e, 55, 0)).toBe(false);
    expect(hasAccess(e, 50, 5)).toBe(true);
  });

  it("count only while in force: voided or expired, they are gone from the entitlement", () => {
    const gone = byKey(
      state({
        subscriptions: [subscription("s1", "basic")],
        grants: [credit("c1", 50, { voidedAt: t("2026-03-01T00:00:00Z") }), credit("c2", 5, { expiresAt: t("2026-03-10T00:00:00Z") })],
      }),
    )["api-calls"];
    expect(gone.credits).toEqual([]);
  });

  const hard = byKey(state({ subscriptions: [subscription("s1", "basic")] }))["api-calls"];
  const soft = byKey(state({ subscriptions: [subscription("s1", "pro")] }))["api-calls"];
  it.each([
    [
      "the limit used up, credits left: access, and what they hold is allowed",
      hard,
      100,
      5,
      5,
      { allowed: true, reason: "ENTITLED" },
      true,
    ],
    ["more than the limit and the credits together", hard, 98, 8, 5, { allowed: false, reason: "LIMIT_EXCEEDED" }, true],
    ["the rest of the limit and all the credits", hard, 98, 7, 5, { allowed: true, reason: "ENTITLED" }, true],
    ["past the limit by records: the credits still hold all they hold", hard, 130, 5, 5, { allowed: true, reason: "ENTITLED" }, true],
    ["soft, beyond limit and credits: allowed, and said", soft, 1000, 6, 5, { allowed: true, reason: "SOFT_LIMIT_EXCEEDED" }, true],
    ["soft, within the credits", soft, 1000, 5, 5, { allowed: true, reason: "ENTITLED" }, true],
  ] as const)("%s", (_name, entitlement, used, quantity, credits, expected, access) => {
    expect(check(entitlement!, used, quantity, credits)).toEqual(expected);
    expect(hasAccess(entitlement!, used, credits)).toBe(access);
  });
});

describe("big numbers (docs/rules.md §1, Numbers)", () => {
  const planEntitlements = [
    { planId: "tokens", featureId: "f-calls", value: metered(5e9) },
    { planId: "tokens-pack", featureId: "f-calls", value: metered(2.5e9) },
    { planId: "peta", featureId: "f-calls", value: metered(1e15) },
  ];
  const plans = new Map(["tokens", "tokens-pack", "peta"].map((id) => [id, { id, name: id }]));
  const onPlan = (id: string, planId: string, quantity: number, extra: Partial<SubscriptionRow> = {}) =>
    subscription(id, planId, { phases: [{ id: `${id}-p1`, planId, quantity, startsAt: JAN, endsAt: null }], ...extra });
  const big = (parts: Partial<CustomerState>) => byKey(state({ planEntitlements, plans, ...parts }))["api-calls"];

  it("a limit of 5e9 on 1,000 seats is 5e12, and the usage against it is counted exactly", () => {
    const e = big({ subscriptions: [onPlan("s1", "tokens", 1000)] });
    expect(e.usageLimit).toBe(5_000_000_000_000);
    expect(e.sources[0]).toMatchObject({ unitUsageLimit: 5e9, quantity: 1000, usageLimit: 5e12 });
    expect(usageSummary(e, 5e12 - 1)).toEqual({ used: 5e12 - 1, remaining: 1, creditsRemaining: 0, available: 1 });
    expect(check(e, 5e12 - 1, 1)).toEqual({ allowed: true, reason: "ENTITLED" });
    expect(check(e, 5e12 - 1, 2)).toEqual({ allowed: false, reason: "LIMIT_EXCEEDED" });
    expect(hasAccess(e, 5e12 - 1)).toBe(true);
    expect(hasAccess(e, 5e12)).toBe(false);
  });

  it("plan, add-on, override and grants, fractions among them, sum exactly while the sum stays below 2^52", () => {
    const e = big({
      subscriptions: [
        onPlan("s1", "tokens", 1000, { addons: [{ id: "a1", addonId: "tokens-pack", quantity: 3, startsAt: JAN, endsAt: null }] }),
        onPlan("s2", "tokens", 2, { overrides: [{ id: "o1", featureId: "f-calls", value: { usageLimit: 1e15 } }] }),
      ],
      grants: [grant("g1", "f-calls", metered(4e9)), grant("g2", "f-calls", metered(0.5))],
    });
    expect(e.sources.map((source) => [source.type, source.usageLimit])).toEqual([
      ["SUBSCRIPTION", 2e15],
      ["GRANT", 4e9],
      ["GRANT", 0.5],
      ["PLAN", 5e12],
      ["ADDON", 7.5e9],
    ]);
    // 2e15 + 4e9 + 0.5 + 5e12 + 7.5e9: every partial sum is a multiple of 0.5 below 2^52, so exact.
    expect(e.usageLimit).toBe(2_005_011_500_000_000.5);
    expect(usageSummary(e, 0.5).remaining).toBe(2_005_011_500_000_000);
  });

  it("past 2^53 sums and products are answered as computed in doubles, finite, never an error", () => {
    const grants = Array.from({ length: 50 }, (_, i) => grant(`g${i}`, "f-calls", metered(1e15 - i)));
    const e = big({ subscriptions: [onPlan("s1", "peta", 1_000_000), onPlan("s2", "peta", 2 ** 31 - 1)], grants });
    const inOrder = e.sources.reduce((sum, source) => sum + (source.usageLimit ?? 0), 0);
    expect(e.usageLimit).toBe(inOrder);
    expect(Number.isFinite(e.usageLimit)).toBe(true);
    const exact = 10n ** 15n * (1_000_000n + 2n ** 31n - 1n + 50n) - (49n * 50n) / 2n;
    expect(Math.abs(e.usageLimit! - Number(exact)) / Number(exact)).toBeLessThan(1e-15);
    // Near 2.1e24 doubles are 2^28 apart: a quantity that is a multiple of it adds up exactly.
    const limit = e.usageLimit!;
    expect(check(e, limit / 2, limit / 2)).toEqual({ allowed: true, reason: "ENTITLED" });
    expect(check(e, limit / 2, limit)).toEqual({ allowed: false, reason: "LIMIT_EXCEEDED" });
    expect(check(e, limit - 2 ** 39, 2 ** 39)).toEqual({ allowed: true, reason: "ENTITLED" });
    expect(check(e, limit, 2 ** 39)).toEqual({ allowed: false, reason: "LIMIT_EXCEEDED" });
    expect(usageSummary(e, limit / 4).remaining).toBe(limit - limit / 4);
    expect(hasAccess(e, limit + 1e12)).toBe(false);
  });
});

describe("how long entitlements hold", () => {
  const APR = t("2026-04-01T00:00:00Z");
  const busy = state({
    subscriptions: [
      subscription("s1", "basic", {
        trialEndsAt: t("2026-01-20T00:00:00Z"),
        canceledAt: t("2026-06-10T00:00:00Z"),
        phases: [
          { id: "s1-p1", planId: "basic", quantity: 1, startsAt: JAN, endsAt: APR },
          { id: "s1-p2", planId: "pro", quantity: 2, startsAt: APR, endsAt: null },
        ],
        addons: [{ id: "a1", addonId: "boost", quantity: 1, startsAt: t("2026-02-10T06:00:00Z"), endsAt: t("2026-05-05T18:00:00Z") }],
      }),
      subscription("s2", "off", { startsAt: t("2026-03-03T03:00:00Z") }),
    ],
    grants: [
      grant("g1", "f-calls", metered(10, { resetPeriod: "MONTHLY" }), {
        effectiveAt: t("2026-02-14T00:00:00Z"),
        expiresAt: t("2026-04-20T00:00:00Z"),
      }),
      grant("g2", "f-region", staticValue("eu"), { effectiveAt: t("2026-01-05T00:00:00Z"), voidedAt: t("2026-03-20T12:00:00Z") }),
    ],
  });
  // Every 7 hours from mid-December to July: instants on and off the boundaries.
  const instants = Array.from({ length: 700 }, (_, i) => new Date(t("2025-12-15T00:00:00Z").getTime() + i * 7 * 3_600_000));

  it("nothing changes before nextChangeAfter: the entitlements a millisecond before it are those at t", () => {
    for (const at of instants) {
      const entitlements = entitlementsAt(busy, at);
      const next = nextChangeAfter(busy, at, entitlements);
      // Null: what holds at t holds for good.
      const lastSame = next ? next.getTime() - 1 : at.getTime() + 5 * 365 * 86_400_000;
      expect(lastSame).toBeGreaterThanOrEqual(at.getTime());
      expect(entitlementsAt(busy, new Date(lastSame))).toEqual(entitlements);
    }
  });

  it("is null only when nothing is scheduled and no period rolls over", () => {
    const still = state({ subscriptions: [subscription("s1", "off")], grants: [grant("g", "f-region", staticValue("eu"))] });
    expect(nextChangeAfter(still, NOW, entitlementsAt(still, NOW))).toBeNull();
    const daily = state({ subscriptions: [subscription("s1", "pro")] });
    expect(nextChangeAfter(daily, NOW, entitlementsAt(daily, NOW))).toEqual(t("2026-03-16T00:00:00Z"));
  });

  it("the memo answers what entitlementsAt answers, at any instant and with any filter", () => {
    const memo = createEntitlementsMemo(busy);
    const filters = [{}, { featureKeys: ["api-calls"] }, { types: ["STATIC" as const] }, { subscriptionIds: ["s2"] }];
    for (const at of [...instants, ...instants.slice(0, 50).reverse()]) {
      for (const filter of filters) expect(memo(at, filter)).toEqual(entitlementsAt(busy, at, filter));
    }
  });
});
