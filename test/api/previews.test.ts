// Previews through the API (docs/rules.md §9), on both databases: each preview is run, then
// the real mutation, and the preview must have said what the mutation's events then say —
// the same customers, the same states after — having written nothing itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { waitUntil } from "../helpers/wait.ts";

let t: TestApp;
let starter: string;
let pro: string;
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "calls", type: "METERED" });
  await s.feature({ key: "sso", type: "BOOLEAN" });
  starter = (await s.plan({ key: "starter", entitlements: { calls: { usageLimit: 100 }, sso: {} } })).id;
  pro = (await s.plan({ key: "pro", entitlements: { calls: { usageLimit: 1000 }, sso: {} } })).id;
  // On Starter: usage at 50, 150 (over, soft-less: no access) and 0; one with its own calls limit; one on Pro.
  for (const [name, used] of [
    ["light", 50],
    ["heavy", 150],
    ["idle", 0],
    ["custom", 10],
  ] as const) {
    await s.customer(name);
    await s.subscription(name, { planId: starter });
    if (used > 0) await s.usage(name, { featureKey: "calls", quantity: used });
  }
  const custom = ok(await t.gql(`{ customer(externalId: "custom") { subscriptions(first: 1) { edges { node { id } } } } }`)).customer
    .subscriptions.edges[0].node.id;
  ok(
    await t.gql(
      `mutation ($s: ID!) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "calls", usageLimit: 500 }) { id } }`,
      { s: custom },
    ),
  );
  await s.customer("elsewhere");
  await s.subscription("elsewhere", { planId: pro });
});
afterAll(() => t.close());

const IMPACT_FIELDS = `featureKey affectedCustomers gainingAccess losingAccess nowOverLimit
  customers(first: 100) { totalCount edges { node { customer { externalId } diff { featureKey effects after { usageLimit hasAccess } } } } }`;
type Impact = {
  affectedCustomers: number;
  gainingAccess: number;
  losingAccess: number;
  nowOverLimit: number;
  customers: { totalCount: number; edges: { node: { customer: { externalId: string }; diff: { effects: string[]; after: unknown } } }[] };
};

const latestEventId = async () =>
  (await t.database.prisma.loggedEvent.findFirst({ where: { projectId: t.projectId }, orderBy: { id: "desc" } }))?.id;

/** What the events logged after `after` say, once the jobs are done: per customer, the feature's state after. */
async function announced(after: bigint | undefined, featureKey: string) {
  await waitUntil(async () => (await t.database.prisma.eventJob.count({ where: { projectId: t.projectId } })) === 0, { what: "the jobs" });
  const events = await t.database.prisma.loggedEvent.findMany({
    where: { projectId: t.projectId, ...(after ? { id: { gt: after } } : {}) },
    orderBy: { id: "asc" },
  });
  const customers = await t.database.prisma.customer.findMany({ where: { projectId: t.projectId } });
  const externalId = new Map(customers.map((customer) => [customer.id, customer.externalId]));
  return new Map(
    events
      .filter((event) => event.featureKeys.includes(featureKey))
      .map((event) => {
        const data = event.data as {
          entitlements: { entitlement: { feature: { key: string }; usageLimit: number | null }; used: number }[];
        };
        const entitlement = data.entitlements.find((entry) => entry.entitlement.feature.key === featureKey);
        return [externalId.get(event.customerId), entitlement ? { usageLimit: entitlement.entitlement.usageLimit } : null];
      }),
  );
}

/** The preview's customers and their after-states, in the same shape. */
const previewed = (impact: Impact) =>
  new Map(
    impact.customers.edges.map(({ node }) => [
      node.customer.externalId,
      node.diff.after ? { usageLimit: (node.diff.after as { usageLimit: number | null }).usageLimit } : null,
    ]),
  );

describe("previews", () => {
  it("of a lowered limit name who loses access and who is now over it, and the real edit announces exactly them", async () => {
    const before = await latestEventId();
    const impact = ok(
      await t.gql(
        `query ($p: ID!) { previewPlanEntitlementChange(input: { planId: $p, featureKey: "calls", usageLimit: 40 }) { ${IMPACT_FIELDS} } }`,
        {
          p: starter,
        },
      ),
    ).previewPlanEntitlementChange as Impact;
    expect(impact).toMatchObject({ affectedCustomers: 3, gainingAccess: 0, losingAccess: 1, nowOverLimit: 1 });
    const effects = Object.fromEntries(impact.customers.edges.map(({ node }) => [node.customer.externalId, node.diff.effects]));
    expect(effects).toEqual({
      light: ["LOSES_ACCESS", "LIMIT_LOWERED", "NOW_OVER_LIMIT"],
      heavy: ["LIMIT_LOWERED"],
      idle: ["LIMIT_LOWERED"],
    });
    // It wrote nothing: no event, no job.
    expect(await latestEventId()).toBe(before);
    expect(await t.database.prisma.eventJob.count({ where: { projectId: t.projectId } })).toBe(0);

    ok(
      await t.gql(`mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "calls", usageLimit: 40 }) { id } }`, {
        p: starter,
      }),
    );
    expect(await announced(before, "calls")).toEqual(previewed(impact));
  });

  it("of a removal name everyone who loses the feature, as the real removal then does", async () => {
    const before = await latestEventId();
    const impact = ok(
      await t.gql(`query ($p: ID!) { previewPlanEntitlementRemoval(planId: $p, featureKey: "sso") { ${IMPACT_FIELDS} } }`, { p: starter }),
    ).previewPlanEntitlementRemoval as Impact;
    expect(impact).toMatchObject({ affectedCustomers: 4, losingAccess: 4, gainingAccess: 0 });
    expect(impact.customers.edges.every(({ node }) => node.diff.after === null)).toBe(true);
    ok(await t.gql(`mutation ($p: ID!) { removePlanEntitlement(planId: $p, featureKey: "sso") { id } }`, { p: starter }));
    expect(await announced(before, "sso")).toEqual(previewed(impact));
  });

  it("page their customers, filter them by effect, and refuse what the real edit refuses", async () => {
    const QUERY = `query ($p: ID!, $after: String, $effects: [ImpactEffect!]) {
      previewPlanEntitlementChange(input: { planId: $p, featureKey: "calls", usageLimit: 60 }) {
        customers(first: 1, after: $after, effects: $effects) { totalCount pageInfo { hasNextPage endCursor } edges { node { customer { externalId } } } }
      }
    }`;
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = ok(await t.gql(QUERY, { p: starter, after })).previewPlanEntitlementChange.customers;
      expect(page.totalCount).toBe(3);
      seen.push(...page.edges.map((edge: { node: { customer: { externalId: string } } }) => edge.node.customer.externalId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(["heavy", "idle", "light"]);
    const gaining = ok(await t.gql(QUERY, { p: starter, effects: ["GAINS_ACCESS"] })).previewPlanEntitlementChange.customers;
    expect(gaining.totalCount).toBe(1); // light, at 50 of a limit raised from 40 to 60
    const refused = await t.gql(`query ($p: ID!) { previewPlanEntitlementRemoval(planId: $p, featureKey: "sso") { featureKey } }`, {
      p: starter,
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND", field: "featureKey" });
  });

  it("of a plan change say what changeSubscriptionPlan then announces for the customer", async () => {
    const subscription = ok(await t.gql(`{ customer(externalId: "light") { subscriptions(first: 1) { edges { node { id } } } } }`)).customer
      .subscriptions.edges[0].node.id;
    const before = await latestEventId();
    const preview = ok(
      await t.gql(
        `query ($s: ID!, $p: ID!) { previewPlanChange(input: { subscriptionId: $s, planId: $p }) {
          customer { externalId } diffs { featureKey effects after { usageLimit hasAccess } } after { featureKey usageLimit hasAccess }
        } }`,
        { s: subscription, p: pro },
      ),
    ).previewPlanChange;
    expect(preview.customer.externalId).toBe("light");
    expect(preview.diffs).toEqual([
      { featureKey: "calls", effects: ["GAINS_ACCESS", "LIMIT_RAISED"], after: { usageLimit: 1000, hasAccess: true } },
      { featureKey: "sso", effects: ["GAINS_ACCESS"], after: { usageLimit: null, hasAccess: true } },
    ]);
    expect(await latestEventId()).toBe(before);

    ok(
      await t.gql(`mutation ($s: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $s, planId: $p }) { id } }`, {
        s: subscription,
        p: pro,
      }),
    );
    const [event] = await t.database.prisma.loggedEvent.findMany({ where: { projectId: t.projectId, id: { gt: before ?? 0n } } });
    expect(event?.featureKeys).toEqual(preview.diffs.map((diff: { featureKey: string }) => diff.featureKey));
    const now = ok(await t.gql(`{ customer(externalId: "light") { entitlements { featureKey usageLimit hasAccess } } }`)).customer
      .entitlements;
    expect(now).toEqual(preview.after);
  });
});
