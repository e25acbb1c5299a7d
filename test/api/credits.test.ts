// Credits through the API (docs/rules.md §8), on both databases: the rulebook's example over
// two past months written as late records, what credits hold at any instant, checks and
// consume drawing on them under contention, and the events their running out and coming back
// announce.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "tokens", type: "METERED" });
  await s.feature({ key: "sso", type: "BOOLEAN" });
  await s.plan({ key: "monthly", entitlements: { tokens: { usageLimit: 1000, resetPeriod: "MONTHLY" } } });
});
afterAll(() => t.close());

const ENTITLEMENT = `query ($c: String!, $at: DateTime) {
  customer(externalId: $c) {
    entitlement(featureKey: "tokens", at: $at) {
      usageLimit hasAccess resetPeriod
      sources { type usageLimit }
      usage { used remaining creditsRemaining available credits { amount remaining grant { id amount } } }
    }
  }
}`;
const REMAINING = `query ($id: ID!, $at: DateTime) { node(id: $id) { ... on Grant { kind amount remaining(at: $at) } } }`;
const CONSUME = `mutation ($c: String!, $q: Float, $k: String) {
  consumeEntitlement(input: { customer: { externalId: $c }, featureKey: "tokens", quantity: $q, idempotencyKey: $k }) { allowed reason }
}`;

async function credit(customer: string, amount: number, extra: Record<string, unknown> = {}) {
  return ok(
    await t.gql(`mutation ($input: CreateGrantInput!) { createGrant(input: $input) { id kind amount } }`, {
      input: { customer: { externalId: customer }, featureKey: "tokens", kind: "CREDIT", amount, ...extra },
    }),
  ).createGrant as { id: string; kind: string; amount: number };
}
const entitlementOf = async (customer: string, at?: string) => ok(await t.gql(ENTITLEMENT, { c: customer, at })).customer.entitlement;
const remaining = async (id: string, at?: string) => ok(await t.gql(REMAINING, { id, at })).node.remaining as number;

describe("credits", () => {
  it("run the rulebook's example: January and February written late, each month's allowance first, then credits by priority", async () => {
    const s = seed(t);
    const plan = ok(await t.gql(`{ plan(key: "monthly") { id } }`)).plan.id;
    await s.customer("example");
    await s.subscription("example", { planId: plan, startsAt: "2026-01-01T00:00:00Z", billingAnchor: "2026-01-01T00:00:00Z" });
    const five = await credit("example", 500, { priority: 0, effectiveAt: "2026-01-01T00:00:00Z" });
    const two = await credit("example", 200, { priority: 5, effectiveAt: "2026-01-01T00:00:00Z" });
    expect(five).toMatchObject({ kind: "CREDIT", amount: 500 });

    await s.usage("example", { featureKey: "tokens", quantity: 1100, timestamp: "2026-01-15T00:00:00Z" });
    await s.usage("example", { featureKey: "tokens", quantity: 1700, timestamp: "2026-02-15T00:00:00Z" });

    // Mid-January: 1,100 used, 100 of it from the 200-credit (drawn first: higher priority).
    const january = await entitlementOf("example", "2026-01-20T00:00:00Z");
    expect(january).toMatchObject({ usageLimit: 1000, hasAccess: true, resetPeriod: "MONTHLY" });
    expect(january.sources).toEqual(
      expect.arrayContaining([
        { type: "GRANT", usageLimit: 0 },
        { type: "PLAN", usageLimit: 1000 },
      ]),
    );
    expect(january.usage).toMatchObject({ used: 1100, remaining: -100, creditsRemaining: 600, available: 600 });
    expect(january.usage.credits.map((c: { amount: number; remaining: number }) => [c.amount, c.remaining])).toEqual([
      [200, 100],
      [500, 500],
    ]);
    // Mid-February: 1,700 used; 100 more from the 200-credit, 500 from the 500-credit, 100 beyond every limit.
    const february = await entitlementOf("example", "2026-02-20T00:00:00Z");
    expect(february.usage).toMatchObject({ used: 1700, remaining: -700, creditsRemaining: 0, available: 0 });
    expect(february.hasAccess).toBe(false);
    // Each credit's remaining, before, between and after the draws.
    expect([await remaining(two.id, "2026-01-10T00:00:00Z"), await remaining(five.id, "2026-01-10T00:00:00Z")]).toEqual([200, 500]);
    expect([await remaining(two.id, "2026-02-01T00:00:00Z"), await remaining(five.id, "2026-02-01T00:00:00Z")]).toEqual([100, 500]);
    expect([await remaining(two.id), await remaining(five.id)]).toEqual([0, 0]);
    // Now, a new month: the allowance is back, the credits stay used up.
    const now = await entitlementOf("example");
    expect(now.usage).toMatchObject({ used: 0, remaining: 1000, creditsRemaining: 0, available: 1000 });
  });

  it("are refused where they make no sense, naming the field", async () => {
    await seed(t).customer("refusals");
    const refusal = async (input: Record<string, unknown>) => {
      const response = await t.gql(`mutation ($input: CreateGrantInput!) { createGrant(input: $input) { id } }`, {
        input: { customer: { externalId: "refusals" }, featureKey: "tokens", ...input },
      });
      const error = response.errors?.[0];
      return [error?.extensions?.code, error?.extensions?.field];
    };
    expect(await refusal({ kind: "CREDIT", amount: 0 })).toEqual(["VALIDATION_ERROR", "input.amount"]);
    expect(await refusal({ kind: "CREDIT" })).toEqual(["VALIDATION_ERROR", "input.amount"]);
    expect(await refusal({ kind: "CREDIT", amount: 5, usageLimit: 5 })).toEqual(["VALIDATION_ERROR", "input.usageLimit"]);
    expect(await refusal({ kind: "CREDIT", amount: 5, isUnlimited: true })).toEqual(["VALIDATION_ERROR", "input.isUnlimited"]);
    expect(await refusal({ kind: "CREDIT", amount: 5, staticValue: "x" })).toEqual(["VALIDATION_ERROR", "input.staticValue"]);
    expect(await refusal({ kind: "CREDIT", amount: 5, featureKey: "sso" })).toEqual(["VALIDATION_ERROR", "input.kind"]);
    expect(await refusal({ amount: 5, usageLimit: 5 })).toEqual(["VALIDATION_ERROR", "input.amount"]);
    expect(ok(await t.gql(`{ customer(externalId: "refusals") { grants { totalCount } } }`)).customer.grants.totalCount).toBe(0);
  });

  it("alone make an entitlement with access while they hold something, and announce running out and coming back", async () => {
    await seed(t).customer("only-credits");
    const first = await credit("only-credits", 3);
    const alone = await entitlementOf("only-credits");
    expect(alone).toMatchObject({ usageLimit: 0, resetPeriod: null, hasAccess: true });
    expect(alone.usage).toMatchObject({ used: 0, remaining: 0, creditsRemaining: 3, available: 3 });
    // A repeated idempotency key draws nothing more.
    expect(ok(await t.gql(CONSUME, { c: "only-credits", q: 2, k: "twice" })).consumeEntitlement).toEqual({
      allowed: true,
      reason: "ENTITLED",
    });
    expect(ok(await t.gql(CONSUME, { c: "only-credits", q: 2, k: "twice" })).consumeEntitlement.allowed).toBe(true);
    expect(await remaining(first.id)).toBe(1);
    expect(ok(await t.gql(CONSUME, { c: "only-credits", q: 2 })).consumeEntitlement).toEqual({ allowed: false, reason: "LIMIT_EXCEEDED" });
    expect(ok(await t.gql(CONSUME, { c: "only-credits", q: 1 })).consumeEntitlement.allowed).toBe(true);
    expect((await entitlementOf("only-credits")).hasAccess).toBe(false);
    await credit("only-credits", 10);
    expect(await entitlementOf("only-credits")).toMatchObject({ hasAccess: true, usage: { used: 3, creditsRemaining: 10, available: 10 } });

    const events = ok(
      await t.gql(
        `{ entitlementEvents(customer: { externalId: "only-credits" }, first: 20) { edges { node { cause changedFeatureKeys } } } }`,
      ),
    ).entitlementEvents.edges.map((edge: { node: unknown }) => edge.node);
    expect(events).toEqual([
      { cause: "GRANT_CHANGED", changedFeatureKeys: ["tokens"] }, // the first credit: the feature appears
      { cause: "USAGE_CHANGED", changedFeatureKeys: ["tokens"] }, // used up
      { cause: "GRANT_CHANGED", changedFeatureKeys: ["tokens"] }, // a new credit gives access back
    ]);
  });

  it("let exactly the allowance and the credits through 50 concurrent consumes, and no credit goes below 0", async () => {
    const s = seed(t);
    const small = await s.plan({ key: "five", entitlements: { tokens: { usageLimit: 5, resetPeriod: "MONTHLY" } } });
    await s.customer("contended");
    await s.subscription("contended", { planId: small.id });
    const a = await credit("contended", 2, { priority: 1 });
    const b = await credit("contended", 3);
    const results = await Promise.all(Array.from({ length: 50 }, () => t.gql(CONSUME, { c: "contended", q: 1 })));
    expect(results.filter((result) => ok(result).consumeEntitlement.allowed)).toHaveLength(10);
    expect([await remaining(a.id), await remaining(b.id)]).toEqual([0, 0]);
    const [rowA, rowB] = [grantRowId(a.id), grantRowId(b.id)];
    const draws = await t.database.prisma.creditDraw.groupBy({
      by: ["grantId"],
      where: { grantId: { in: [rowA, rowB] } },
      _sum: { amount: true },
    });
    // The draws add up: 2 from a, 3 from b, each by records that were allowed.
    expect(new Map(draws.map((row) => [row.grantId, row._sum.amount]))).toEqual(
      new Map([
        [rowA, 2],
        [rowB, 3],
      ]),
    );
    expect((await entitlementOf("contended")).usage).toMatchObject({ used: 10, creditsRemaining: 0, available: 0 });
  });

  it("are drawn by recordUsages too, across two credits in one record, and a soft limit says when they are exceeded", async () => {
    const s = seed(t);
    const soft = await s.plan({ key: "soft", entitlements: { tokens: { usageLimit: 10, resetPeriod: "MONTHLY", isSoftLimit: true } } });
    await s.customer("batch");
    await s.subscription("batch", { planId: soft.id });
    const a = await credit("batch", 5, { priority: 2 });
    const b = await credit("batch", 5, { priority: 1 });
    ok(
      await t.gql(`mutation ($r: [RecordUsageInput!]!) { recordUsages(records: $r) { recordedCount } }`, {
        r: [
          { customer: { externalId: "batch" }, featureKey: "tokens", quantity: 8 },
          { customer: { externalId: "batch" }, featureKey: "tokens", quantity: 9 }, // 2 of the allowance, 5 of a, 2 of b
          { customer: { externalId: "batch" }, featureKey: "tokens", quantity: -4 }, // gives back allowance only
        ],
      }),
    );
    expect([await remaining(a.id), await remaining(b.id)]).toEqual([0, 3]);
    const CHECK = `{ checkEntitlement(customer: { externalId: "batch" }, featureKey: "tokens", quantity: 8) { allowed reason } }`;
    // used 13 of 10: 0 of the allowance left, 3 in credits; 8 is more than available, allowed by the soft limit.
    expect(ok(await t.gql(CHECK)).checkEntitlement).toEqual({ allowed: true, reason: "SOFT_LIMIT_EXCEEDED" });
    expect((await entitlementOf("batch")).usage).toMatchObject({ used: 13, creditsRemaining: 3, available: 3 });
  });
});

/** A Grant's row id from its global ID. */
function grantRowId(globalId: string): string {
  return Buffer.from(globalId, "base64").toString("utf8").split(":").slice(1).join(":");
}
