// The entitlement engine through GraphQL: the seeds' own examples, usage, checks and
// atomic consumption, on both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { insertUsageRecords } from "../../src/db/usage-records.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A project of its own: `run` fails on any error, `raw` answers whatever comes, `seed` sets up. */
async function project() {
  const { key } = await t.newProject();
  const run = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await t.gql(query, variables, { key });
    expect(result.errors).toBeUndefined();
    return result.data;
  };
  const raw = (query: string, variables: Record<string, unknown> = {}) => t.gql(query, variables, { key });
  return { key, run, raw, seed: seed(t, key) };
}
const code = (result: GraphQLResponse) => result.errors?.[0]?.extensions;

const ENTITLEMENTS = `query ($c: String!, $at: DateTime) { customer(externalId: $c) { entitlements(at: $at) {
  featureKey featureType isEnabled hasAccess usageLimit isUnlimited isSoftLimit resetPeriod staticValues staticValue
  activeFrom activeTo usage { used remaining periodStart periodEnd }
  sources { type entityId entityName quantity isEnabled usageLimit isUnlimited priority subscription { id } activeFrom activeTo }
} } }`;

describe("Chargebee's example: customer c1 with subscriptions s1 and s2", () => {
  it("stacks licences, ranks support levels and lists both subscriptions as sources", async () => {
    const { run, seed: s } = await project();
    const licenceLevels = [3, 10, 25].map((level) => ({ level, name: String(level), value: String(level) }));
    await s.feature({
      key: "user-licenses",
      name: "User licenses",
      type: "METERED",
      levels: [...licenceLevels, { level: 100, name: "Unlimited", value: "unlimited", isUnlimited: true }],
    });
    const supportLevels = ["Email", "Chat", "Calls"].map((value, index) => ({ level: index + 1, name: value, value }));
    await s.feature({ key: "support-level", name: "Support level", type: "STATIC", levels: supportLevels });
    await s.feature({ key: "xero-integration", name: "Xero integration", type: "BOOLEAN" });
    const basic = await s.plan({
      key: "basic",
      name: "Basic",
      entitlements: { "user-licenses": { usageLimit: 3, resetPeriod: "NEVER" }, "support-level": { staticValue: "Email" } },
    });
    const growth = await s.plan({
      key: "growth",
      name: "Growth",
      entitlements: {
        "user-licenses": { usageLimit: 10, resetPeriod: "NEVER" },
        "support-level": { staticValue: "Chat" },
        "xero-integration": {},
      },
    });
    await s.customer("c1");
    await s.subscription("c1", { planId: basic.id, startsAt: "2026-01-01T00:00:00Z" });
    await s.subscription("c1", { planId: growth.id, startsAt: "2026-02-01T00:00:00Z" });
    const list = (await run(ENTITLEMENTS, { c: "c1" })).customer.entitlements;
    expect(list.map((e: any) => e.featureKey)).toEqual(["support-level", "user-licenses", "xero-integration"]);
    const [support, licences, xero] = list;
    // Our rules: METERED limits add up (3 + 10); STATIC values rank by level, highest first.
    expect(licences).toMatchObject({
      usageLimit: 13,
      isUnlimited: false,
      resetPeriod: "NEVER",
      hasAccess: true,
      usage: { used: 0, remaining: 13, periodStart: null, periodEnd: null },
    });
    expect(licences.sources.map((s: any) => [s.type, s.entityName, s.usageLimit])).toEqual([
      ["PLAN", "Basic", 3],
      ["PLAN", "Growth", 10],
    ]);
    expect(new Set(licences.sources.map((s: any) => s.subscription.id)).size).toBe(2);
    expect(support).toMatchObject({ staticValues: ["Chat", "Email"], staticValue: "Chat", usage: null, hasAccess: true });
    expect(xero).toMatchObject({
      featureType: "BOOLEAN",
      isEnabled: true,
      hasAccess: true,
      activeFrom: "2026-02-01T00:00:00.000Z",
      activeTo: null,
    });
  });
});

describe("Flexprice's response shape: a metered feature from a plan, an add-on and an override", () => {
  it("names each source's entity type, id, name, quantity and subscription", async () => {
    const { run, seed: setup } = await project();
    await setup.feature({ key: "api-calls", name: "API calls", type: "METERED" });
    const pro = await setup.plan({ key: "pro", name: "Pro", entitlements: { "api-calls": { usageLimit: 1000, isSoftLimit: true } } });
    const boost = await setup.plan({ key: "boost", name: "Boost pack", kind: "ADDON", entitlements: { "api-calls": { usageLimit: 500 } } });
    await setup.customer("cus_flex");
    const s = await setup.subscription("cus_flex", { planId: pro.id, quantity: 2, addons: [{ addonId: boost.id, quantity: 3 }] });
    const before = (await run(ENTITLEMENTS, { c: "cus_flex" })).customer.entitlements[0];
    expect(before.usageLimit).toBe(2 * 1000 + 3 * 500);
    const o = (
      await run(
        `mutation ($s: ID!) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "api-calls", usageLimit: 5000 }) { id } }`,
        { s: s.id },
      )
    ).setSubscriptionOverride;
    const [entitlement] = (await run(ENTITLEMENTS, { c: "cus_flex" })).customer.entitlements;
    expect(entitlement).toMatchObject({
      featureKey: "api-calls",
      usageLimit: 2 * 5000 + 3 * 500,
      isSoftLimit: true,
      resetPeriod: "MONTHLY",
    });
    expect(
      entitlement.sources.map((x: any) => ({
        type: x.type,
        entityId: x.entityId,
        entityName: x.entityName,
        quantity: x.quantity,
        usageLimit: x.usageLimit,
        subscription: x.subscription.id,
      })),
    ).toEqual([
      { type: "SUBSCRIPTION", entityId: o.id, entityName: "Pro", quantity: 2, usageLimit: 10000, subscription: s.id },
      { type: "ADDON", entityId: boost.id, entityName: "Boost pack", quantity: 3, usageLimit: 1500, subscription: s.id },
    ]);
    // Filtering by subscription keeps its sources; a filter on another type drops the feature.
    expect(
      (
        await run(`query ($s: ID!) { customer(externalId: "cus_flex") { entitlements(subscriptionIds: [$s]) { featureKey } } }`, {
          s: s.id,
        })
      ).customer.entitlements,
    ).toHaveLength(1);
    expect(
      (await run(`{ customer(externalId: "cus_flex") { entitlements(types: [BOOLEAN]) { featureKey } } }`)).customer.entitlements,
    ).toEqual([]);
  });
});

describe("Paygentic's time travel: a grant with an end", () => {
  it("answers entitlement(at:) before, inside and after its window", async () => {
    const { run, seed: s } = await project();
    await s.feature({ key: "premium-reports", name: "Premium reports", type: "BOOLEAN" });
    await s.customer("cus_tt");
    await s.grant("cus_tt", {
      featureKey: "premium-reports",
      effectiveAt: "2026-06-01T00:00:00Z",
      expiresAt: "2026-07-01T00:00:00+00:00",
      reason: "trial",
    });
    const at = async (instant: string) =>
      (
        await run(
          `query ($at: DateTime!) { customer(externalId: "cus_tt") { entitlement(featureKey: "premium-reports", at: $at) { hasAccess activeFrom activeTo sources { type } } } }`,
          { at: instant },
        )
      ).customer.entitlement;
    expect(await at("2026-05-31T23:59:59Z")).toBeNull();
    expect(await at("2026-06-15T00:00:00+02:00")).toEqual({
      hasAccess: true,
      activeFrom: "2026-06-01T00:00:00.000Z",
      activeTo: "2026-07-01T00:00:00.000Z",
      sources: [{ type: "GRANT" }],
    });
    expect(await at("2026-07-01T00:00:00Z")).toBeNull();
  });
});

describe("usage, checks and consumption", () => {
  let ctx: Awaited<ReturnType<typeof project>>;
  beforeAll(async () => {
    ctx = await project();
    const s = ctx.seed;
    await s.feature({ key: "exports", type: "METERED" });
    await s.feature({ key: "sso", type: "BOOLEAN" });
    const team = await s.plan({ key: "team", entitlements: { exports: { usageLimit: 10, resetPeriod: "NEVER" } } });
    for (const customer of ["u1", "u2"]) {
      await s.customer(customer);
      await s.subscription(customer, { planId: team.id });
    }
  });
  const CHECK = `query ($c: String!, $f: String!, $q: Float) { checkEntitlement(customer: { externalId: $c }, featureKey: $f, quantity: $q) { allowed reason entitlement { hasAccess usage { used remaining } } } }`;
  const RECORD = `mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id quantity timestamp idempotencyKey } }`;

  it("records usage idempotently and flips access at the limit", async () => {
    const first = (
      await ctx.run(RECORD, { input: { customer: { externalId: "u1" }, featureKey: "exports", quantity: 6, idempotencyKey: "batch-1" } })
    ).recordUsage;
    const retry = (
      await ctx.run(RECORD, { input: { customer: { externalId: "u1" }, featureKey: "exports", quantity: 6, idempotencyKey: "batch-1" } })
    ).recordUsage;
    expect(retry).toEqual(first);
    expect((await ctx.run(CHECK, { c: "u1", f: "exports", q: 4 })).checkEntitlement).toEqual({
      allowed: true,
      reason: "ENTITLED",
      entitlement: { hasAccess: true, usage: { used: 6, remaining: 4 } },
    });
    expect((await ctx.run(CHECK, { c: "u1", f: "exports", q: 5 })).checkEntitlement).toMatchObject({
      allowed: false,
      reason: "LIMIT_EXCEEDED",
    });
    await ctx.run(RECORD, {
      input: {
        customer: { externalId: "u1" },
        featureKey: "exports",
        quantity: 4,
        timestamp: new Date(Date.now() - 86_400_000).toISOString(),
      },
    });
    expect((await ctx.run(CHECK, { c: "u1", f: "exports" })).checkEntitlement).toEqual({
      allowed: false,
      reason: "LIMIT_EXCEEDED",
      entitlement: { hasAccess: false, usage: { used: 10, remaining: 0 } },
    });
    await ctx.run(RECORD, { input: { customer: { externalId: "u1" }, featureKey: "exports", quantity: -1 } });
    expect((await ctx.run(CHECK, { c: "u1", f: "exports" })).checkEntitlement.entitlement.hasAccess).toBe(true);
    expect((await ctx.run(CHECK, { c: "u1", f: "sso" })).checkEntitlement).toEqual({
      allowed: false,
      reason: "NOT_ENTITLED",
      entitlement: null,
    });
  });

  it.each([
    [{ featureKey: "sso" }, "VALIDATION_ERROR", "input.featureKey"],
    [{ featureKey: "exports", quantity: 1e13 }, "VALIDATION_ERROR", "input.quantity"],
    [{ featureKey: "exports", timestamp: new Date(Date.now() + 3_600_000).toISOString() }, "VALIDATION_ERROR", "input.timestamp"],
    [{ featureKey: "nope" }, "NOT_FOUND", "input.featureKey"],
    [{ featureKey: "exports", customer: { externalId: "nobody" } }, "NOT_FOUND", "input.customer.externalId"],
  ])("refuses usage %#", async (input, expectedCode, field) => {
    const result = await ctx.raw(RECORD, { input: { customer: { externalId: "u1" }, ...input } });
    expect(code(result)).toMatchObject({ code: expectedCode, field });
  });

  it("checks unknown customers and features as NOT_FOUND", async () => {
    expect(errorCodes(await ctx.raw(CHECK, { c: "nobody", f: "exports" }))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await ctx.raw(CHECK, { c: "u1", f: "nope" }))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await ctx.raw(`{ customer(externalId: "u1") { entitlement(featureKey: "nope") { hasAccess } } }`))).toEqual([
      "NOT_FOUND",
    ]);
  });

  it("consumes atomically: of 50 concurrent calls against a hard limit of 10, exactly 10 succeed", async () => {
    const CONSUME = `mutation ($k: String) { consumeEntitlement(input: { customer: { externalId: "u2" }, featureKey: "exports", idempotencyKey: $k }) { allowed reason record { id } } }`;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ctx.run(CONSUME, { k: `consume-${i}` })));
    const allowed = results.filter((r) => r.consumeEntitlement.allowed);
    expect(allowed).toHaveLength(10);
    expect(results.filter((r) => r.consumeEntitlement.reason === "LIMIT_EXCEEDED")).toHaveLength(40);
    // A retried key counts once and answers with its first record.
    const key = results.findIndex((r) => r.consumeEntitlement.allowed);
    const retry = (await ctx.run(CONSUME, { k: `consume-${key}` })).consumeEntitlement;
    expect(retry).toEqual({ allowed: true, reason: "ENTITLED", record: results[key]!.consumeEntitlement.record });
    const used = (await ctx.run(CHECK, { c: "u2", f: "exports" })).checkEntitlement.entitlement.usage.used;
    expect(used).toBe(10);
  });

  it("answers a retried consume over a soft limit as the first call did, and counts it once", async () => {
    const { run, seed: s } = await project();
    await s.feature({ key: "seats", type: "METERED" });
    const flex = await s.plan({ key: "flex", entitlements: { seats: { usageLimit: 1, isSoftLimit: true } } });
    await s.customer("soft");
    await s.subscription("soft", { planId: flex.id });
    const CONSUME = `mutation ($k: String!) { consumeEntitlement(input: { customer: { externalId: "soft" }, featureKey: "seats", idempotencyKey: $k }) {
      allowed reason record { id } entitlement { usage { used } } } }`;
    const within = (await run(CONSUME, { k: "seat-1" })).consumeEntitlement;
    const over = (await run(CONSUME, { k: "seat-2" })).consumeEntitlement;
    expect([within.reason, over.reason]).toEqual(["ENTITLED", "SOFT_LIMIT_EXCEEDED"]);
    const [retriedOver, retriedWithin] = [
      (await run(CONSUME, { k: "seat-2" })).consumeEntitlement,
      (await run(CONSUME, { k: "seat-1" })).consumeEntitlement,
    ];
    expect(retriedOver).toMatchObject({
      allowed: true,
      reason: "SOFT_LIMIT_EXCEEDED",
      record: over.record,
      entitlement: { usage: { used: 2 } },
    });
    expect(retriedWithin).toMatchObject({ allowed: true, reason: "ENTITLED", record: within.record, entitlement: { usage: { used: 2 } } });
  });
});

describe("the rules' boundaries through GraphQL", () => {
  it("follows trial end, cancellation, add-on windows, voided grants and usage periods at their instants", async () => {
    const { run, seed: setup } = await project();
    await setup.feature({ key: "calls", type: "METERED" });
    const plan = await setup.plan({ key: "plan", entitlements: { calls: { usageLimit: 100 } } });
    const extra = await setup.plan({ key: "extra", kind: "ADDON", entitlements: { calls: { usageLimit: 10 } } });
    const edges = await setup.customer("edges");
    // Starts Jan 31 (anchor), trial to Feb 10; add-on over [Mar 1, Apr 1); canceled from Jan 31 next year.
    const s = await setup.subscription("edges", {
      planId: plan.id,
      startsAt: "2030-01-31T00:00:00Z",
      trialEndsAt: "2030-02-10T00:00:00Z",
      addons: [{ addonId: extra.id, startsAt: "2030-03-01T00:00:00Z", endsAt: "2030-04-01T00:00:00Z" }],
    });
    await run(`mutation ($s: ID!) { cancelSubscription(input: { subscriptionId: $s, at: "2031-01-31T00:00:00Z" }) { id } }`, { s: s.id });
    const grant = await setup.grant("edges", { featureKey: "calls", usageLimit: 1, effectiveAt: "2030-02-01T00:00:00Z" });
    await run(`mutation ($g: ID!) { voidGrant(id: $g, at: "2030-02-15T00:00:00Z") { id } }`, { g: grant.id });
    // Usage in the future cannot be recorded through the API (5 minutes of skew at most): store it directly.
    const customer = await t.database.prisma.customer.findUniqueOrThrow({
      where: { id: Buffer.from(edges.id, "base64").toString().split(":")[1] },
    });
    const feature = await t.database.prisma.feature.findUniqueOrThrow({
      where: { projectId_key: { projectId: customer.projectId, key: "calls" } },
    });
    await insertUsageRecords(
      t.database.prisma,
      [
        ["2030-02-27T23:59:59Z", 7],
        ["2030-02-28T00:00:00Z", 3],
        ["2030-03-30T12:00:00Z", 5],
      ].map(([timestamp, quantity]) => ({
        projectId: customer.projectId,
        customerId: customer.id,
        featureId: feature.id,
        quantity: Number(quantity),
        timestamp: new Date(String(timestamp)),
        idempotencyKey: null,
      })),
    );
    const at = async (instant: string) =>
      (
        await run(
          `query ($at: DateTime!) { customer(externalId: "edges") { entitlement(featureKey: "calls", at: $at) {
        usageLimit usage { used periodStart periodEnd } sources { type }
      } } }`,
          { at: instant },
        )
      ).customer.entitlement;

    expect(await at("2030-01-30T23:59:59Z")).toBeNull();
    // Trialing entitles; the grant adds 1 from Feb 1 until voided on Feb 15.
    expect(await at("2030-02-09T00:00:00Z")).toMatchObject({ usageLimit: 101, sources: [{ type: "GRANT" }, { type: "PLAN" }] });
    expect(await at("2030-02-15T00:00:00Z")).toMatchObject({ usageLimit: 100 });
    // Monthly periods from Jan 31: [Jan 31, Feb 28), [Feb 28, Mar 31): the record at Feb 27 23:59:59 is in the first.
    expect((await at("2030-02-20T00:00:00Z")).usage).toEqual({
      used: 7,
      periodStart: "2030-01-31T00:00:00.000Z",
      periodEnd: "2030-02-28T00:00:00.000Z",
    });
    expect(await at("2030-03-01T00:00:00Z")).toMatchObject({
      usageLimit: 110,
      usage: { used: 8, periodStart: "2030-02-28T00:00:00.000Z", periodEnd: "2030-03-31T00:00:00.000Z" },
    });
    expect(await at("2030-04-01T00:00:00Z")).toMatchObject({ usageLimit: 100, usage: { used: 0 } });
    expect(await at("2031-01-30T23:59:59Z")).toMatchObject({ usageLimit: 100 });
    expect(await at("2031-01-31T00:00:00Z")).toBeNull();
  });
});
