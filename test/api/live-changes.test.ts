// Subscription.entitlementsChanged over GraphQL-over-SSE: events follow committed writes
// that change what a customer may use, and only those (docs/rules.md §6).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { subscribeSse, type SseSubscription } from "../helpers/sse.ts";
import { createEventBus } from "../../src/events/bus.ts";
import { fanOutPlanChange } from "../../src/services/changes.ts";

let t: TestApp;
let planId: string;
const open: SseSubscription[] = [];
beforeAll(async () => {
  t = await createTestApp();
  const setup = await t.gql(`mutation {
    a: createFeature(input: { key: "exports", name: "Exports", type: METERED }) { id }
    b: createFeature(input: { key: "sso", name: "SSO", type: BOOLEAN }) { id }
    p: createPlan(input: { key: "team", name: "Team" }) { id }
    c: createCustomer(input: { externalId: "u1" }) { id }
    d: createCustomer(input: { externalId: "u2" }) { id }
  }`);
  planId = setup.data.p.id;
  await t.gql(`mutation ($p: ID!) {
    e: setPlanEntitlement(input: { planId: $p, featureKey: "exports", usageLimit: 2 }) { id }
    s1: createSubscription(input: { customer: { externalId: "u1" }, planId: $p }) { id }
    s2: createSubscription(input: { customer: { externalId: "u2" }, planId: $p }) { id }
  }`, { p: planId });
});
afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close()));
  await t.close();
});

const SUBSCRIBE = `subscription ($c: CustomerRef, $f: [String!]) {
  entitlementsChanged(customer: $c, featureKeys: $f) {
    customer { externalId } cause changedFeatureKeys occurredAt
    entitlements { featureKey hasAccess usage { used } }
  }
}`;
const subscribe = async (variables: Record<string, unknown>, key = t.adminKey) => {
  const subscription = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", key, SUBSCRIBE, variables);
  open.push(subscription);
  // Let the server register the subscriber before anything is written.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return subscription;
};
const record = (customer: string) =>
  t.gql(`mutation ($c: String!) { recordUsage(input: { customer: { externalId: $c }, featureKey: "exports" }) { id } }`, { c: customer });

describe("entitlementsChanged over SSE", () => {
  it("delivers a grant made to the customer, after the write, and not others' changes", async () => {
    const events = await subscribe({ c: { externalId: "u1" } });
    await t.gql(`mutation { createGrant(input: { customer: { externalId: "u2" }, featureKey: "sso" }) { id } }`);
    const before = Date.now();
    await t.gql(`mutation { createGrant(input: { customer: { externalId: "u1" }, featureKey: "sso", reason: "trial" }) { id } }`);
    const event = (await events.next()).data.entitlementsChanged;
    expect(event).toMatchObject({ customer: { externalId: "u1" }, cause: "GRANT_CHANGED", changedFeatureKeys: ["sso"] });
    expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(before - 5);
    expect(event.entitlements.map((e: { featureKey: string }) => e.featureKey)).toEqual(["exports", "sso"]);
  });

  it("tells of usage only when it flips access: at the limit, and when freed again", async () => {
    const events = await subscribe({ c: { externalId: "u2" }, f: ["exports"] });
    await record("u2"); // 1 of 2: no change in access
    await record("u2"); // 2 of 2: the limit is reached
    const reached = (await events.next()).data.entitlementsChanged;
    expect(reached).toMatchObject({ cause: "USAGE_CHANGED", changedFeatureKeys: ["exports"] });
    expect(reached.entitlements.find((e: any) => e.featureKey === "exports")).toEqual({ featureKey: "exports", hasAccess: false, usage: { used: 2 } });
    await t.gql(`mutation { recordUsage(input: { customer: { externalId: "u2" }, featureKey: "exports", quantity: -1 }) { id } }`);
    const freed = (await events.next()).data.entitlementsChanged;
    expect(freed.entitlements.find((e: any) => e.featureKey === "exports").hasAccess).toBe(true);
  });

  it("delivers subscription edits, and every customer's to a project-wide subscriber", async () => {
    const everyone = await subscribe({});
    const sub = (await t.gql(`{ customer(externalId: "u1") { subscriptions { edges { node { id } } } } }`)).data.customer.subscriptions.edges[0].node.id;
    await t.gql(`mutation ($s: ID!) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "exports", usageLimit: 100 }) { id } }`, { s: sub });
    const event = (await everyone.next()).data.entitlementsChanged;
    expect(event).toMatchObject({ customer: { externalId: "u1" }, cause: "SUBSCRIPTION_CHANGED", changedFeatureKeys: ["exports"] });
  });

  it("delivers catalog edits to every customer on the plan, in batches after the response", async () => {
    const setup = (await t.gql(`mutation {
      p: createPlan(input: { key: "catalog-plan", name: "Catalog plan" }) { id }
      a: createCustomer(input: { externalId: "cat-a" }) { id }
      b: createCustomer(input: { externalId: "cat-b" }) { id }
      c: createCustomer(input: { externalId: "cat-c" }) { id }
    }`)).data;
    const catalogPlan = setup.p.id;
    await t.gql(`mutation ($p: ID!, $other: ID!) {
      a: createSubscription(input: { customer: { externalId: "cat-a" }, planId: $p }) { id }
      b: createSubscription(input: { customer: { externalId: "cat-b" }, planId: $p }) { id }
      c: createSubscription(input: { customer: { externalId: "cat-c" }, planId: $other }) { id }
    }`, { p: catalogPlan, other: planId });
    const events = await subscribe({});
    await t.gql(`mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "sso" }) { id } }`, { p: catalogPlan });
    const first = [(await events.next()).data.entitlementsChanged, (await events.next()).data.entitlementsChanged];
    expect(first.map((e) => e.customer.externalId).sort()).toEqual(["cat-a", "cat-b"]);
    expect(first.every((e) => e.cause === "CATALOG_CHANGED" && e.changedFeatureKeys.join() === "sso")).toBe(true);
    // Setting the same value again changes nothing; removing it does.
    await t.gql(`mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "sso" }) { id } }`, { p: catalogPlan });
    await t.gql(`mutation ($p: ID!) { removePlanEntitlement(planId: $p, featureKey: "sso") { id } }`, { p: catalogPlan });
    const removed = [(await events.next()).data.entitlementsChanged, (await events.next()).data.entitlementsChanged];
    expect(removed.map((e) => e.customer.externalId).sort()).toEqual(["cat-a", "cat-b"]);
    expect(removed.every((e) => !e.entitlements.some((x: { featureKey: string }) => x.featureKey === "sso"))).toBe(true);

    // The fan-out walks customers in bounded batches and tells each one that changed.
    const bus = createEventBus();
    const rawPlan = Buffer.from(catalogPlan, "base64").toString().split(":")[1]!;
    const feature = await t.database.prisma.feature.findUniqueOrThrow({ where: { projectId_key: { projectId: t.projectId, key: "exports" } } });
    await t.database.prisma.planEntitlement.create({ data: { planId: rawPlan, featureId: feature.id, usageLimit: 3 } });
    const told = await fanOutPlanChange({ prisma: t.database.prisma, events: bus }, { projectId: t.projectId, planId: rawPlan, featureId: feature.id, before: null }, 1);
    expect(told).toBe(2);
  });

  it("lets a customer token follow its own customer only", async () => {
    const token = (await t.gql(`mutation { createCustomerToken(customer: { externalId: "u1" }) { token } }`)).data.createCustomerToken.token;
    const own = await subscribe({}, token);
    await t.gql(`mutation { createGrant(input: { customer: { externalId: "u2" }, featureKey: "sso", usageLimit: null, priority: 1 }) { id } }`);
    const grant = (await t.gql(`mutation { createGrant(input: { customer: { externalId: "u1" }, featureKey: "sso", isEnabled: false, priority: 9 }) { id } }`)).data;
    expect(grant).toBeTruthy();
    await t.gql(`{ customer(externalId: "u1") { id } }`);
    const sub = (await t.gql(`{ customer(externalId: "u1") { subscriptions { edges { node { id } } } } }`)).data.customer.subscriptions.edges[0].node.id;
    await t.gql(`mutation ($s: ID!) { cancelSubscription(input: { subscriptionId: $s }) { id } }`, { s: sub });
    const event = (await own.next()).data.entitlementsChanged;
    expect(event).toMatchObject({ customer: { externalId: "u1" }, cause: "SUBSCRIPTION_CHANGED", changedFeatureKeys: ["exports"] });

    const denied = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", token, SUBSCRIBE, { c: { externalId: "u2" } });
    open.push(denied);
    expect((await denied.next()).errors?.[0]?.extensions?.code).toBe("PERMISSION_DENIED");
  });
});
