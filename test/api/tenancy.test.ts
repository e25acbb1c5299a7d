// docs/rules.md §7: nothing crosses projects. A key of project B sees and changes nothing of
// project A's, through any root field or `node`: the answer is NOT_FOUND, as for an unknown id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
let otherKey: string;
const a: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  otherKey = (await t.newProject("project B")).key;
  // Project A: one object of every type a key could reach.
  const s = seed(t);
  a.feature = (await s.feature({ key: "seats", name: "Seats", type: "METERED" })).id;
  a.plan = (await s.plan({ key: "pro", name: "Pro" })).id;
  a.addon = (await s.plan({ key: "boost", name: "Boost", kind: "ADDON", entitlements: { seats: { usageLimit: 1 } } })).id;
  a.entitlement = (await s.entitlement(a.plan, "seats", { usageLimit: 5 })).id;
  a.customer = (await s.customer("acme", { name: "Acme" })).id;
  const subscription = await s.subscription("acme", { planId: a.plan, addons: [{ addonId: a.addon }] });
  a.subscription = subscription.id;
  a.subscriptionAddon = subscription.addons[0]!.id;
  a.grant = (await s.grant("acme", { featureKey: "seats", usageLimit: 2 })).id;
  const more = ok(
    await t.gql(
      `mutation ($s: ID!) {
    key: createApiKey(input: { name: "reader", scopes: [READ] }) { apiKey { id } }
    override: setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "seats", usageLimit: 50 }) { id }
  }`,
      { s: a.subscription },
    ),
  );
  a.apiKey = more.key.apiKey.id;
  a.override = more.override.id;
});
afterAll(() => t.close());

const asB = (query: string, variables: Record<string, unknown> = {}) => t.gql(query, variables, { key: otherKey });

describe("project isolation", () => {
  it("the owner sees every object by node(id)", async () => {
    for (const id of Object.values(a)) {
      const result = await t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id });
      expect(result.data.node.id).toBe(id);
    }
  });

  it("another project's objects are NOT_FOUND through node and nodes", async () => {
    for (const [name, id] of Object.entries(a)) {
      const result = await asB(`query ($id: ID!) { node(id: $id) { id } }`, { id });
      expect({ name, codes: errorCodes(result), node: result.data?.node }).toEqual({ name, codes: ["NOT_FOUND"], node: null });
    }
    const many = await asB(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Object.values(a) });
    expect(many.data.nodes).toEqual(Object.values(a).map(() => null));
    expect(new Set(errorCodes(many))).toEqual(new Set(["NOT_FOUND"]));
  });

  it("another project's objects are NOT_FOUND by key, externalId or id", async () => {
    const lookups = [
      [`{ feature(key: "seats") { id } }`, {}],
      [`query ($id: ID!) { feature(id: $id) { id } }`, { id: a.feature }],
      [`{ plan(key: "pro") { id } }`, {}],
      [`query ($id: ID!) { plan(id: $id) { id } }`, { id: a.plan }],
      [`{ customer(externalId: "acme") { id } }`, {}],
      [`query ($id: ID!) { customer(id: $id) { id } }`, { id: a.customer }],
    ] as const;
    for (const [query, variables] of lookups) {
      expect(errorCodes(await asB(query, variables))).toEqual(["NOT_FOUND"]);
    }
  });

  it("lists show only the caller's project", async () => {
    const lists = await asB(`{
      features { totalCount } plans { totalCount } customers { totalCount edges { node { id } } }
      apiKeys { id }
    }`);
    expect(lists.data.features.totalCount).toBe(0);
    expect(lists.data.plans.totalCount).toBe(0);
    expect(lists.data.customers).toEqual({ totalCount: 0, edges: [] });
    expect(lists.data.apiKeys.map((key: { id: string }) => key.id)).not.toContain(a.apiKey);
  });

  it("every mutation on another project's objects is NOT_FOUND and changes nothing", async () => {
    const before = await snapshot();
    const attempts: [string, Record<string, unknown>][] = [
      [`mutation ($id: ID!) { updateFeature(input: { id: $id, name: "x" }) { id } }`, { id: a.feature }],
      [`mutation ($id: ID!) { archiveFeature(id: $id) { id } }`, { id: a.feature }],
      [`mutation ($id: ID!) { updatePlan(input: { id: $id, name: "x" }) { id } }`, { id: a.plan }],
      [`mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: a.plan }],
      [`mutation ($id: ID!) { setPlanEntitlement(input: { planId: $id, featureKey: "seats", usageLimit: 1 }) { id } }`, { id: a.plan }],
      [`mutation ($id: ID!) { removePlanEntitlement(planId: $id, featureKey: "seats") { id } }`, { id: a.plan }],
      [`mutation ($id: ID!) { updateCustomer(input: { id: $id, name: "x" }) { id } }`, { id: a.customer }],
      [
        `mutation ($id: ID!, $p: ID!) { createSubscription(input: { customer: { id: $id }, planId: $p }) { id } }`,
        { id: a.customer, p: a.plan },
      ],
      [`mutation { createSubscription(input: { customer: { externalId: "acme" }, planId: "${a.plan}" }) { id } }`, {}],
      [
        `mutation ($id: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $id, planId: $p }) { id } }`,
        { id: a.subscription, p: a.plan },
      ],
      [`mutation ($id: ID!) { cancelSubscription(input: { subscriptionId: $id }) { id } }`, { id: a.subscription }],
      [
        `mutation ($id: ID!, $p: ID!) { addSubscriptionAddon(input: { subscriptionId: $id, addonId: $p }) { id } }`,
        { id: a.subscription, p: a.addon },
      ],
      [`mutation ($id: ID!) { removeSubscriptionAddon(id: $id) { id } }`, { id: a.subscriptionAddon }],
      [
        `mutation ($id: ID!) { setSubscriptionOverride(input: { subscriptionId: $id, featureKey: "seats", usageLimit: 1 }) { id } }`,
        { id: a.subscription },
      ],
      [`mutation ($id: ID!) { removeSubscriptionOverride(subscriptionId: $id, featureKey: "seats") { id } }`, { id: a.subscription }],
      [`mutation { createGrant(input: { customer: { externalId: "acme" }, featureKey: "seats", usageLimit: 1 }) { id } }`, {}],
      [`mutation ($id: ID!) { voidGrant(id: $id) { id } }`, { id: a.grant }],
      [`mutation ($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: a.apiKey }],
    ];
    for (const [query, variables] of attempts) {
      const result = await asB(query, variables);
      expect({ query, codes: errorCodes(result) }).toEqual({ query, codes: ["NOT_FOUND"] });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("keys are unique per project only: B may use A's feature key and externalId", async () => {
    const result = await asB(`mutation {
      createFeature(input: { key: "seats", name: "B's seats", type: BOOLEAN }) { key }
      createCustomer(input: { externalId: "acme" }) { externalId }
    }`);
    expect(result.errors).toBeUndefined();
    expect((await t.gql(`{ feature(key: "seats") { name } }`)).data.feature.name).toBe("Seats");
  });
});

/** Every row of project A that a mutation could touch, for before/after comparison. */
async function snapshot() {
  const prisma = t.database.prisma;
  const projectId = t.projectId;
  return {
    features: await prisma.feature.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
    plans: await prisma.plan.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
    entitlements: await prisma.planEntitlement.findMany({ where: { plan: { projectId } }, orderBy: { id: "asc" } }),
    customers: await prisma.customer.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
    subscriptions: await prisma.customerSubscription.findMany({
      where: { projectId },
      include: { phases: true, addons: true, overrides: true },
      orderBy: { id: "asc" },
    }),
    grants: await prisma.grant.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
    apiKeys: await prisma.apiKey.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
  };
}
