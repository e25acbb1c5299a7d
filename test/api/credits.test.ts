// Credits through the API (docs/rules.md §8), on both databases: the rulebook's example over
// two past months written as late records, what credits hold at any instant, checks and
// consume drawing on them under contention, and the events their running out and coming back
// announce.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

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
    // A credit's own value fields say it adds nothing per period.
    const shown = ok(
      await t.gql(`query ($id: ID!) { node(id: $id) { ... on Grant { usageLimit isUnlimited resetPeriod } } }`, { id: five.id }),
    );
    expect(shown.node).toEqual({ usageLimit: 0, isUnlimited: false, resetPeriod: null });

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

  it("used up by a late record of an earlier period, take access away now, and say so", async () => {
    const s = seed(t);
    const plan = ok(await t.gql(`{ plan(key: "monthly") { id } }`)).plan.id;
    await s.customer("late-drain");
    await s.subscription("late-drain", { planId: plan, startsAt: "2026-01-01T00:00:00Z", billingAnchor: "2026-01-01T00:00:00Z" });
    await credit("late-drain", 50, { effectiveAt: "2026-01-01T00:00:00Z" });
    await s.usage("late-drain", { featureKey: "tokens", quantity: 1000 }); // this month's allowance, all of it
    expect(await entitlementOf("late-drain")).toMatchObject({ hasAccess: true, usage: { creditsRemaining: 50, available: 50 } });
    const before = await t.database.prisma.loggedEvent.findFirst({ where: { projectId: t.projectId }, orderBy: { id: "desc" } });
    // A month back: that month's allowance, then the credit's 50.
    const lastMonth = new Date(Date.now() - 35 * 86_400_000).toISOString();
    await s.usage("late-drain", { featureKey: "tokens", quantity: 1050, timestamp: lastMonth });
    expect(await entitlementOf("late-drain")).toMatchObject({ hasAccess: false, usage: { creditsRemaining: 0, available: 0 } });
    const events = await t.database.prisma.loggedEvent.findMany({ where: { projectId: t.projectId, id: { gt: before?.id ?? 0n } } });
    expect(events.map((event) => [(event.data as { cause: string }).cause, event.featureKeys])).toEqual([["USAGE_CHANGED", ["tokens"]]]);
  });

  it("are drawn once by concurrent recordUsage calls: none is drawn below 0, the rest is beyond every limit", async () => {
    // A soft limit: nothing is announced of it, so only drawing makes its writers take the lock.
    const s = seed(t);
    const soft = await s.plan({ key: "soft-zero", entitlements: { tokens: { usageLimit: 0, isSoftLimit: true, resetPeriod: "MONTHLY" } } });
    await s.customer("racing");
    await s.subscription("racing", { planId: soft.id });
    const pack = await credit("racing", 5);
    // Twenty writers at once, each wanting the whole credit: one gets it.
    const RECORD = `mutation { recordUsage(input: { customer: { externalId: "racing" }, featureKey: "tokens", quantity: 5 }) { id } }`;
    await Promise.all(Array.from({ length: 20 }, async () => ok(await t.gql(RECORD))));
    const drawn = await t.database.prisma.creditDraw.aggregate({
      where: { grantId: grantRowId(pack.id) },
      _sum: { amount: true },
      _count: true,
    });
    expect(drawn).toMatchObject({ _sum: { amount: 5 }, _count: 1 });
    expect(await remaining(pack.id)).toBe(0);
    expect((await entitlementOf("racing")).usage).toMatchObject({ used: 100, creditsRemaining: 0, available: 0 });
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

describe("credits under random sequences (property)", () => {
  // Months of 2026 as past periods of a monthly allowance anchored on June 1st: records are
  // written late, into any of them, in any order, between credits given and voided.
  const MONTHS = ["2026-06", "2026-07", "2026-08", "2026-09"];
  const op = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("record" as const),
        quantity: fc.integer({ min: -4, max: 14 }),
        month: fc.integer({ min: 0, max: 3 }),
        day: fc.integer({ min: 2, max: 27 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("credit" as const),
        amount: fc.integer({ min: 1, max: 12 }),
        priority: fc.integer({ min: 0, max: 2 }),
        month: fc.integer({ min: 0, max: 3 }),
        lasts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("void" as const), which: fc.nat(), month: fc.integer({ min: 0, max: 3 }) }) },
  );
  const instant = (month: number, day = 1) => new Date(`${MONTHS[month] ?? "2026-10"}-${String(day).padStart(2, "0")}T12:00:00Z`);
  let run = 0;
  const ALLOWANCE = 4;

  it("draws what the rulebook's burn-down draws, never more than a credit's amount, and every credit's balance agrees", async () => {
    const s = seed(t);
    const allowance = await s.plan({ key: "prop", entitlements: { tokens: { usageLimit: ALLOWANCE, resetPeriod: "MONTHLY" } } });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 14 }), async (ops) => {
        const customer = `prop-${++run}`;
        await s.customer(customer);
        await s.subscription(customer, { planId: allowance.id, startsAt: "2026-06-01T00:00:00Z", billingAnchor: "2026-06-01T00:00:00Z" });
        // The model: each month's usage so far, each credit's window and what it still holds.
        const used = new Map<number, number>();
        const credits: {
          id: string;
          amount: number;
          priority: number;
          from: Date;
          to: Date | null;
          voidedAt: Date | null;
          holds: number;
        }[] = [];
        for (const step of ops) {
          if (step.kind === "credit") {
            const from = instant(step.month);
            const to = step.lasts === null ? null : instant(step.month + step.lasts);
            const made = await credit(customer, step.amount, {
              priority: step.priority,
              effectiveAt: from.toISOString(),
              expiresAt: to?.toISOString(),
            });
            credits.push({ id: made.id, amount: step.amount, priority: step.priority, from, to, voidedAt: null, holds: step.amount });
          } else if (step.kind === "void") {
            const target = credits[step.which % Math.max(1, credits.length)];
            if (!target || target.voidedAt) continue;
            const at = instant(step.month, 15);
            ok(
              await t.gql(`mutation ($id: ID!, $at: DateTime) { voidGrant(id: $id, at: $at) { id } }`, {
                id: target.id,
                at: at.toISOString(),
              }),
            );
            target.voidedAt = target.to && target.to < at ? target.to : at;
          } else {
            const at = instant(step.month, step.day);
            await s.usage(customer, { featureKey: "tokens", quantity: step.quantity, timestamp: at.toISOString() });
            const before = used.get(step.month) ?? 0;
            used.set(step.month, before + step.quantity);
            if (step.quantity <= 0) continue;
            let rest = step.quantity - Math.min(step.quantity, Math.max(0, ALLOWANCE - before));
            const active = credits
              .filter((c) => c.from <= at && (!c.to || at < c.to) && (!c.voidedAt || at < c.voidedAt))
              .sort(
                (a, b) =>
                  b.priority - a.priority ||
                  (a.to?.getTime() ?? Number.POSITIVE_INFINITY) - (b.to?.getTime() ?? Number.POSITIVE_INFINITY) ||
                  a.from.getTime() - b.from.getTime() ||
                  (grantRowId(a.id) < grantRowId(b.id) ? -1 : 1),
              );
            for (const c of active) {
              const take = Math.min(rest, c.holds);
              c.holds -= take;
              rest -= take;
            }
          }
        }
        const rows = await t.database.prisma.creditDraw.groupBy({
          by: ["grantId"],
          where: { grantId: { in: credits.map((c) => grantRowId(c.id)) } },
          _sum: { amount: true },
        });
        const drawn = new Map(rows.map((row) => [row.grantId, row._sum.amount ?? 0]));
        for (const c of credits) {
          const fromLedger = drawn.get(grantRowId(c.id)) ?? 0;
          expect(fromLedger).toBe(c.amount - c.holds);
          expect(fromLedger).toBeLessThanOrEqual(c.amount);
          // What it holds at the end of the model's time, unless it has lapsed by then.
          const end = instant(4);
          const lapsed = (c.to && c.to <= end) || (c.voidedAt && c.voidedAt <= end);
          expect(await remaining(c.id, end.toISOString())).toBe(lapsed ? 0 : c.holds);
        }
      }),
      { numRuns: Number(process.env.CREDIT_RUNS ?? 8), seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
  });
});

describe("what drawing costs", () => {
  it("is the same number of statements after 1 record drew on a credit as after 400 did", async () => {
    const counter = new SqlCounter();
    const app = await createTestApp({ sqlCounter: counter });
    try {
      const s = seed(app);
      await s.feature({ key: "tokens", type: "METERED" });
      await s.customer("history");
      ok(
        await app.gql(
          `mutation { createGrant(input: { customer: { externalId: "history" }, featureKey: "tokens", kind: CREDIT, amount: 1000000 }) { id } }`,
        ),
      );
      const RECORD = `mutation { recordUsage(input: { customer: { externalId: "history" }, featureKey: "tokens", quantity: 1 }) { id } }`;
      const statementsOfRecord = async () => {
        ok(await app.gql(RECORD)); // warm: the customer and catalog in the cache
        counter.reset();
        ok(await app.gql(RECORD));
        return counter.count;
      };
      const first = await statementsOfRecord();
      const records = Array.from({ length: 400 }, () => ({ customer: { externalId: "history" }, featureKey: "tokens", quantity: 1 }));
      ok(await app.gql(`mutation ($r: [RecordUsageInput!]!) { recordUsages(records: $r) { recordedCount } }`, { r: records }));
      expect(await app.database.prisma.creditDraw.count()).toBeGreaterThanOrEqual(402);
      expect(await statementsOfRecord()).toBe(first);
    } finally {
      await app.close();
    }
  });
});
