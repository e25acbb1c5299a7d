// Big numbers through GraphQL, on both databases (docs/rules.md §1, Numbers): limits in the
// billions and up to 1e15, fractions, limit × quantity summed over plan, add-on, override and
// grants, exact while below 2^53 and answered as computed beyond; usage, checks and
// consumption at those magnitudes; refusals of what no limit can be, naming the field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, firstError, ok, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;

/** A project of its own with a METERED feature `tokens`; `gql` runs as its ADMIN key. */
async function project() {
  const { key } = await t.newProject();
  const gql = (query: string, variables: Record<string, unknown> = {}) => t.gql(query, variables, { key });
  const s = seed(t, key);
  await s.feature({ key: "tokens", type: "METERED", unitPlural: "tokens" });
  return { key, gql, seed: s };
}

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const ENTITLEMENT = `query ($c: String!, $at: DateTime) { customer(externalId: $c) { entitlement(featureKey: "tokens", at: $at) {
  usageLimit isUnlimited hasAccess usage { used remaining }
  sources { type quantity usageLimit isEnabled }
} } }`;
const CHECK = `query ($c: String!, $q: Float) { checkEntitlement(customer: { externalId: $c }, featureKey: "tokens", quantity: $q) {
  allowed reason entitlement { usage { used remaining } }
} }`;
const CONSUME = `mutation ($c: String!, $q: Float) { consumeEntitlement(input: { customer: { externalId: $c }, featureKey: "tokens", quantity: $q }) {
  allowed reason record { quantity }
} }`;
const SET_LIMIT = `mutation ($p: ID!, $l: Float) { setPlanEntitlement(input: { planId: $p, featureKey: "tokens", usageLimit: $l }) { usageLimit } }`;
const SET_OVERRIDE = `mutation ($s: ID!, $l: Float) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "tokens", usageLimit: $l }) { usageLimit } }`;
const CREATE_GRANT = `mutation ($l: Float) { createGrant(input: { customer: { externalId: "c" }, featureKey: "tokens", usageLimit: $l }) { usageLimit } }`;

/** Records `total` of usage for customer `c` in as few records as the quantity limit (1e12) allows. */
async function use(s: Awaited<ReturnType<typeof project>>["seed"], c: string, total: number) {
  for (let left = total; left > 0; left -= 1e12) await s.usage(c, { featureKey: "tokens", quantity: Math.min(left, 1e12) });
}

describe("limits past 32 bits", () => {
  it("3e9 on a plan, an override and a grant is taken and read back exactly; 2e9 on 5 seats is 1e10", async () => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "llm" });
    expect(ok(await gql(SET_LIMIT, { p: plan.id, l: 3e9 })).setPlanEntitlement.usageLimit).toBe(3_000_000_000);
    await s.customer("c");
    const subscription = await s.subscription("c", { planId: plan.id, quantity: 5 });
    expect(ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement).toMatchObject({ usageLimit: 15_000_000_000, isUnlimited: false });

    ok(await gql(SET_LIMIT, { p: plan.id, l: 2e9 }));
    expect(ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement).toMatchObject({
      usageLimit: 10_000_000_000,
      hasAccess: true,
      usage: { used: 0, remaining: 10_000_000_000 },
    });

    expect(ok(await gql(SET_OVERRIDE, { s: subscription.id, l: 3e9 })).setSubscriptionOverride.usageLimit).toBe(3_000_000_000);
    expect(ok(await gql(CREATE_GRANT, { l: 3e9 })).createGrant.usageLimit).toBe(3_000_000_000);
    const plans = ok(await gql(`query ($id: ID!) { node(id: $id) { ... on Plan { entitlements { usageLimit } } } }`, { id: plan.id }));
    expect(plans.node.entitlements).toEqual([{ usageLimit: 2_000_000_000 }]);
    expect(ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement.usageLimit).toBe(5 * 3e9 + 3e9);
  });

  it("takes 1e15 and fractions (GB, hours) as they are", async () => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "storage" });
    for (const limit of [1e15, 1e15 - 1, 0.5, 2.75, 0.001, 0]) {
      expect(ok(await gql(SET_LIMIT, { p: plan.id, l: limit })).setPlanEntitlement.usageLimit).toBe(limit);
    }
    ok(await gql(SET_LIMIT, { p: plan.id, l: 2.5 }));
    await s.customer("c");
    await s.subscription("c", { planId: plan.id, quantity: 3 });
    await s.usage("c", { featureKey: "tokens", quantity: 0.25 });
    expect(ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement).toMatchObject({
      usageLimit: 7.5,
      usage: { used: 0.25, remaining: 7.25 },
    });
  });
});

describe("limits no one can have are refused, naming the field, and nothing is written", () => {
  it.each([
    ["negative", -1, "must be at least 0"],
    ["just above 1e15", 1e15 + 1, "must be at most 1e15"],
    ["1.5e15", 1.5e15, "must be at most 1e15"],
    ["the largest double", Number.MAX_VALUE, "must be at most 1e15"],
  ])("%s (%s) on a plan entitlement, an override and a grant", async (_label, limit, message) => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "llm", entitlements: { tokens: { usageLimit: 10 } } });
    await s.customer("c");
    const subscription = await s.subscription("c", { planId: plan.id });
    const before = ok(await gql(ENTITLEMENT, { c: "c" }));
    for (const [mutation, variables] of [
      [SET_LIMIT, { p: plan.id, l: limit }],
      [SET_OVERRIDE, { s: subscription.id, l: limit }],
      [CREATE_GRANT, { l: limit }],
    ] as const) {
      const refused = await gql(mutation, variables);
      expect(firstError(refused)).toEqual({ code: "VALIDATION_ERROR", field: "input.usageLimit" });
      expect(refused.errors?.[0]?.message).toBe(`input.usageLimit: ${message}`);
    }
    expect(ok(await gql(ENTITLEMENT, { c: "c" }))).toEqual(before);
  });

  it("non-finite literals never become a limit: 1e309 is refused naming the field, NaN and Infinity are not Floats", async () => {
    const { key, gql, seed: s } = await project();
    const plan = await s.plan({ key: "llm", entitlements: { tokens: { usageLimit: 10 } } });
    const literal = (value: string) =>
      gql(`mutation { setPlanEntitlement(input: { planId: "${plan.id}", featureKey: "tokens", usageLimit: ${value} }) { usageLimit } }`);
    for (const value of ["1e309", "-1e309"]) {
      expect({ value, ...firstError(await literal(value)) }).toEqual({ value, code: "VALIDATION_ERROR", field: "input.usageLimit" });
    }
    for (const value of ["NaN", "Infinity", "-Infinity"]) {
      expect({ value, code: firstError(await literal(value)).code }).toEqual({ value, code: "VALIDATION_ERROR" });
    }
    // Variables are JSON, which has no NaN or Infinity; 1e309 in JSON reads as Infinity and is no Float either.
    const body = `{"query": ${JSON.stringify(SET_LIMIT)}, "variables": {"p": "${plan.id}", "l": 1e309}}`;
    const response = await t.app.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body,
    });
    expect(firstError((await response.json()) as GraphQLResponse).code).toBe("VALIDATION_ERROR");
    const stored = await gql(`query ($id: ID!) { node(id: $id) { ... on Plan { entitlements { usageLimit } } } }`, { id: plan.id });
    expect(stored.data?.node).toEqual({ entitlements: [{ usageLimit: 10 }] });
  });
});

describe("sums over many sources", () => {
  it("5e9 on 1,000 seats, an add-on, an override on a second subscription and grants: exact, source by source", async () => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "llm", entitlements: { tokens: { usageLimit: 5e9 } } });
    const pack = await s.plan({ key: "pack", kind: "ADDON", entitlements: { tokens: { usageLimit: 2.5e9 } } });
    await s.customer("c");
    await s.subscription("c", { planId: plan.id, quantity: 1000, addons: [{ addonId: pack.id, quantity: 3 }] });
    const second = await s.subscription("c", { planId: plan.id, quantity: 2 });
    ok(await gql(SET_OVERRIDE, { s: second.id, l: 1e15 }));
    ok(await gql(CREATE_GRANT, { l: 4e9 }));
    ok(await gql(CREATE_GRANT, { l: 0.5 }));

    const entitlement = ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement;
    expect(entitlement.sources.map((source: { type: string; usageLimit: number }) => [source.type, source.usageLimit])).toEqual([
      ["SUBSCRIPTION", 2e15],
      ["GRANT", 4e9],
      ["GRANT", 0.5],
      ["PLAN", 5e12],
      ["ADDON", 7.5e9],
    ]);
    // Every partial sum is a multiple of 0.5 below 2^52: exact in doubles, in any order.
    expect(entitlement.usageLimit).toBe(2_005_011_500_000_000.5);

    await use(s, "c", 3e12);
    expect(ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement.usage).toEqual({
      used: 3e12,
      remaining: 2_002_011_500_000_000.5,
    });
  });

  it("past 2^53 (1e15 on 1,000,000 seats, twenty grants of 1e15) the sum is answered as computed, never an error", async () => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "peta", entitlements: { tokens: { usageLimit: 1e15 } } });
    await s.customer("c");
    await s.subscription("c", { planId: plan.id, quantity: 1_000_000 });
    for (let i = 0; i < 20; i++) ok(await gql(CREATE_GRANT, { l: 1e15 - i }));
    await use(s, "c", 2e12);

    const entitlement = ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement;
    expect(entitlement.sources).toHaveLength(21);
    const inOrder = entitlement.sources.reduce((sum: number, source: { usageLimit: number }) => sum + source.usageLimit, 0);
    expect(entitlement.usageLimit).toBe(inOrder);
    const exact = 10n ** 21n + 20n * 10n ** 15n - 190n;
    expect(Math.abs(entitlement.usageLimit - Number(exact)) / Number(exact)).toBeLessThan(1e-15);
    expect(entitlement.usage).toEqual({ used: 2e12, remaining: entitlement.usageLimit - 2e12 });
    expect(entitlement.hasAccess).toBe(true);

    expect(ok(await gql(CHECK, { c: "c", q: 1e12 })).checkEntitlement).toMatchObject({ allowed: true, reason: "ENTITLED" });
    expect(ok(await gql(CONSUME, { c: "c", q: 1e12 })).consumeEntitlement).toEqual({
      allowed: true,
      reason: "ENTITLED",
      record: { quantity: 1e12 },
    });
  });
});

describe("checks and consumption at a limit of 5e12", () => {
  it("one unit below the limit is allowed, two are not; at the limit access ends", async () => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "llm", entitlements: { tokens: { usageLimit: 5e9 } } });
    await s.customer("c");
    await s.subscription("c", { planId: plan.id, quantity: 1000 });
    await use(s, "c", 5e12 - 2);

    expect(ok(await gql(CHECK, { c: "c", q: 2 })).checkEntitlement).toEqual({
      allowed: true,
      reason: "ENTITLED",
      entitlement: { usage: { used: 5e12 - 2, remaining: 2 } },
    });
    expect(ok(await gql(CHECK, { c: "c", q: 3 })).checkEntitlement).toMatchObject({ allowed: false, reason: "LIMIT_EXCEEDED" });
    expect(ok(await gql(CONSUME, { c: "c", q: 3 })).consumeEntitlement).toEqual({ allowed: false, reason: "LIMIT_EXCEEDED", record: null });
    expect(ok(await gql(CONSUME, { c: "c", q: 1 })).consumeEntitlement).toMatchObject({ allowed: true, record: { quantity: 1 } });
    expect(ok(await gql(CONSUME, { c: "c", q: 2 })).consumeEntitlement).toMatchObject({ allowed: false, reason: "LIMIT_EXCEEDED" });
    expect(ok(await gql(CONSUME, { c: "c", q: 1 })).consumeEntitlement).toMatchObject({ allowed: true, reason: "ENTITLED" });
    expect(ok(await gql(ENTITLEMENT, { c: "c" })).customer.entitlement).toMatchObject({
      hasAccess: false,
      usage: { used: 5e12, remaining: 0 },
    });
    expect(ok(await gql(CHECK, { c: "c", q: 1 })).checkEntitlement).toMatchObject({ allowed: false, reason: "LIMIT_EXCEEDED" });
  });
});

describe("time travel with big limits", () => {
  it("a grant of 1e15 counts only inside its window, and a plan change to 1,000,000 seats only from its instant", async () => {
    const { gql, seed: s } = await project();
    const plan = await s.plan({ key: "llm", entitlements: { tokens: { usageLimit: 5e9 } } });
    await s.customer("c");
    const subscription = await s.subscription("c", { planId: plan.id, quantity: 1000, startsAt: "2026-01-01T00:00:00Z" });
    await s.grant("c", {
      featureKey: "tokens",
      usageLimit: 1e15,
      effectiveAt: "2027-01-01T00:00:00Z",
      expiresAt: "2027-02-01T00:00:00Z",
    });
    ok(
      await gql(
        `mutation ($s: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $s, planId: $p, quantity: 1000000, at: "2027-06-01T00:00:00Z" }) { id } }`,
        { s: subscription.id, p: plan.id },
      ),
    );
    const limitAt = async (at: string) => ok(await gql(ENTITLEMENT, { c: "c", at })).customer.entitlement.usageLimit;
    expect(await limitAt("2026-12-31T23:59:59.999Z")).toBe(5e12);
    expect(await limitAt("2027-01-01T00:00:00Z")).toBe(1e15 + 5e12);
    expect(await limitAt("2027-02-01T00:00:00Z")).toBe(5e12);
    expect(await limitAt("2027-06-01T00:00:00Z")).toBe(5e15);
  });
});
