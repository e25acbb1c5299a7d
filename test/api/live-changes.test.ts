// Subscription.entitlementsChanged over GraphQL-over-SSE: events follow committed writes
// that change what a customer may use, and only those (docs/rules.md §6). That a write is not told
// is shown by the next event a subscriber gets: a later write's, which must be heard.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { CountingEventTarget } from "../helpers/counting-event-target.ts";
import { seed, type Seed } from "../helpers/seed.ts";
import { subscribeSse, type SseSubscription } from "../helpers/sse.ts";
import { waitUntil } from "../helpers/wait.ts";
import { createEventBus } from "../../src/events/bus.ts";
import { storedValue } from "../../src/loaders/customer-state.ts";
import { nextJobPage, type JobPage } from "../../src/services/event-jobs.ts";

// The app's bus, on a target that counts its listeners: a subscriber is registered once its
// listener is there, and no write is made before that.
const target = new CountingEventTarget();
let t: TestApp;
let s: Seed;
let planId: string;
const open: SseSubscription[] = [];
beforeAll(async () => {
  t = await createTestApp({ events: createEventBus({ eventTarget: target }) });
  s = seed(t);
  await s.feature({ key: "exports", name: "Exports", type: "METERED" });
  await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" });
  planId = (await s.plan({ key: "team", name: "Team", entitlements: { exports: { usageLimit: 2 } } })).id;
  for (const customer of ["u1", "u2"]) {
    await s.customer(customer);
    await s.subscription(customer, { planId });
  }
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
/** What a dashboard watching one customer asks of each event: the customer, read afresh. */
const WATCH_CUSTOMER = `subscription ($c: CustomerRef) {
  entitlementsChanged(customer: $c) { customer { entitlements { featureKey usageLimit usage { used } } } }
}`;
const subscribe = async (variables: Record<string, unknown>, key = t.adminKey) => {
  const listening = target.listeners;
  const subscription = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", key, SUBSCRIBE, variables);
  open.push(subscription);
  await waitUntil(() => target.listeners > listening, { what: "the server to register the subscriber" });
  return subscription;
};
const record = (customer: string, quantity = 1) => s.usage(customer, { featureKey: "exports", quantity });
const subscriptionOf = async (customer: string): Promise<string> =>
  ok(await t.gql(`query ($c: String!) { customer(externalId: $c) { subscriptions { edges { node { id } } } } }`, { c: customer })).customer
    .subscriptions.edges[0].node.id;

describe("entitlementsChanged over SSE", () => {
  it("delivers a grant made to the customer, after the write, and not others' changes", async () => {
    const events = await subscribe({ c: { externalId: "u1" } });
    await s.grant("u2", { featureKey: "sso" }); // another customer's: not for this subscriber
    const before = Date.now();
    await s.grant("u1", { featureKey: "sso", reason: "trial" });
    // The first event heard is u1's: u2's grant, written before it, was not delivered.
    const event = (await events.next()).data.entitlementsChanged;
    expect(event).toMatchObject({ customer: { externalId: "u1" }, cause: "GRANT_CHANGED", changedFeatureKeys: ["sso"] });
    expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(before - 5);
    expect(event.entitlements.map((e: { featureKey: string }) => e.featureKey)).toEqual(["exports", "sso"]);
  });

  it("tells of usage only when it flips access: at the limit, and when freed again", async () => {
    const events = await subscribe({ c: { externalId: "u2" }, f: ["exports"] });
    await record("u2"); // 1 of 2: no change in access, nothing to tell
    await record("u2"); // 2 of 2: the limit is reached
    // The first event heard is the second record's (used: 2): the first record was not told.
    const reached = (await events.next()).data.entitlementsChanged;
    expect(reached).toMatchObject({ cause: "USAGE_CHANGED", changedFeatureKeys: ["exports"] });
    expect(reached.entitlements.find((e: any) => e.featureKey === "exports")).toEqual({
      featureKey: "exports",
      hasAccess: false,
      usage: { used: 2 },
    });
    await record("u2", -1);
    const freed = (await events.next()).data.entitlementsChanged;
    expect(freed.entitlements.find((e: any) => e.featureKey === "exports").hasAccess).toBe(true);
  });

  it("answers each event with the state after it, however long the subscriber has listened", async () => {
    await s.customer("u3");
    await s.subscription("u3", { planId });
    const listening = target.listeners;
    const events = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", t.adminKey, WATCH_CUSTOMER, {
      c: { externalId: "u3" },
    });
    open.push(events);
    await waitUntil(() => target.listeners > listening, { what: "the server to register the subscriber" });
    const exportsOf = (event: any) =>
      event.data.entitlementsChanged.customer.entitlements.find((e: { featureKey: string }) => e.featureKey === "exports");
    await s.grant("u3", { featureKey: "sso" });
    expect(exportsOf(await events.next())).toEqual({ featureKey: "exports", usageLimit: 2, usage: { used: 0 } });
    await record("u3"); // 1 of 2: no event of its own
    await s.grant("u3", { featureKey: "exports", usageLimit: 3 });
    expect(exportsOf(await events.next())).toEqual({ featureKey: "exports", usageLimit: 5, usage: { used: 1 } });
  });

  it("tells each customer a recordUsages batch takes to its limit, after the batch", async () => {
    for (const customer of ["b1", "b2"]) {
      await s.customer(customer);
      await s.subscription(customer, { planId });
    }
    const [first, second] = [await subscribe({ c: { externalId: "b1" } }), await subscribe({ c: { externalId: "b2" } })];
    const one = (customer: string) => ({ customer: { externalId: customer }, featureKey: "exports" });
    ok(
      await t.gql(`mutation ($records: [RecordUsageInput!]!) { recordUsages(records: $records) { recordedCount } }`, {
        records: [one("b1"), one("b2"), one("b2"), one("b1")],
      }),
    );
    for (const [events, customer] of [
      [first, "b1"],
      [second, "b2"],
    ] as const) {
      const event = (await events.next()).data.entitlementsChanged;
      expect(event).toMatchObject({ customer: { externalId: customer }, cause: "USAGE_CHANGED", changedFeatureKeys: ["exports"] });
      expect(event.entitlements.find((e: any) => e.featureKey === "exports")).toEqual({
        featureKey: "exports",
        hasAccess: false,
        usage: { used: 2 },
      });
    }
  });

  it("delivers subscription edits, and every customer's to a project-wide subscriber", async () => {
    const everyone = await subscribe({});
    const sub = await subscriptionOf("u1");
    ok(
      await t.gql(
        `mutation ($s: ID!) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "exports", usageLimit: 100 }) { id } }`,
        { s: sub },
      ),
    );
    const event = (await everyone.next()).data.entitlementsChanged;
    expect(event).toMatchObject({ customer: { externalId: "u1" }, cause: "SUBSCRIPTION_CHANGED", changedFeatureKeys: ["exports"] });
  });

  it("delivers catalog edits to every customer on the plan, in batches after the response", async () => {
    const catalogPlan = (await s.plan({ key: "catalog-plan", name: "Catalog plan" })).id;
    for (const [customer, plan] of [
      ["cat-a", catalogPlan],
      ["cat-b", catalogPlan],
      ["cat-c", planId],
    ] as const) {
      await s.customer(customer);
      await s.subscription(customer, { planId: plan });
    }
    const events = await subscribe({});
    const next = async () => (await events.next()).data.entitlementsChanged;
    await s.entitlement(catalogPlan, "sso");
    const first = [await next(), await next()];
    expect(first.map((e) => e.customer.externalId).sort()).toEqual(["cat-a", "cat-b"]);
    expect(first.every((e) => e.cause === "CATALOG_CHANGED" && e.changedFeatureKeys.join() === "sso")).toBe(true);
    // Setting the same value again changes nothing, so it is not told; removing it is. Had the
    // repeated set been told, its events (sso still there) would come before the removal's.
    await s.entitlement(catalogPlan, "sso");
    ok(await t.gql(`mutation ($p: ID!) { removePlanEntitlement(planId: $p, featureKey: "sso") { id } }`, { p: catalogPlan }));
    const removed = [await next(), await next()];
    expect(removed.map((e) => e.customer.externalId).sort()).toEqual(["cat-a", "cat-b"]);
    expect(removed.every((e) => e.cause === "CATALOG_CHANGED" && e.changedFeatureKeys.join() === "sso")).toBe(true);
    expect(removed.every((e) => !e.entitlements.some((x: { featureKey: string }) => x.featureKey === "sso"))).toBe(true);

    // The fan-out walks customers in pages (of one here), and finds each one that changed once.
    const rawPlan = Buffer.from(catalogPlan, "base64").toString().split(":")[1]!;
    const feature = await t.database.prisma.feature.findUniqueOrThrow({
      where: { projectId_key: { projectId: t.projectId, key: "exports" } },
    });
    const row = await t.database.prisma.planEntitlement.create({ data: { planId: rawPlan, featureId: feature.id, usageLimit: 3 } });
    const job = {
      kind: "plan-entitlement",
      projectId: t.projectId,
      planId: rawPlan,
      featureId: feature.id,
      before: null,
      after: storedValue(row),
    } as const;
    const pages: number[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: JobPage | null = await t.database.prisma.$transaction((tx) => nextJobPage(tx, job, cursor, 1));
      if (!page) break;
      pages.push(page.events.get(t.projectId)?.length ?? 0);
      cursor = page.cursor;
    }
    expect(pages).toEqual([1, 1]);
  });

  it("tells the customers whose staticValues a feature's new levels reorder, and no one else (docs/rules.md §6)", async () => {
    const levels = (values: string[]) => values.map((value, index) => ({ level: index + 1, name: value, value }));
    const tier = await s.feature({ key: "tier", type: "STATIC", levels: levels(["bronze", "silver", "gold"]) });
    const tiered = (await s.plan({ key: "tiered", entitlements: { tier: { staticValue: "bronze" } } })).id;
    // lv-plan: the plan's bronze and a grant's gold; lv-grants: two grants; lv-one: one value only.
    for (const customer of ["lv-plan", "lv-grants", "lv-one"]) await s.customer(customer);
    await s.subscription("lv-plan", { planId: tiered });
    await s.grant("lv-plan", { featureKey: "tier", staticValue: "gold" });
    await s.grant("lv-grants", { featureKey: "tier", staticValue: "bronze" });
    await s.grant("lv-grants", { featureKey: "tier", staticValue: "silver" });
    await s.subscription("lv-one", { planId: tiered });
    const events = await subscribe({});
    const next = async () => (await events.next()).data.entitlementsChanged;
    ok(
      await t.gql(`mutation ($id: ID!, $levels: [FeatureLevelInput!]) { updateFeature(input: { id: $id, levels: $levels }) { id } }`, {
        id: tier.id,
        levels: levels(["gold", "silver", "bronze"]),
      }),
    );
    const told = [await next(), await next()];
    expect(told.map((e) => e.customer.externalId).sort()).toEqual(["lv-grants", "lv-plan"]);
    expect(told.every((e) => e.cause === "CATALOG_CHANGED" && e.changedFeatureKeys.join() === "tier")).toBe(true);
    const values = ok(await t.gql(`{ customer(externalId: "lv-plan") { entitlement(featureKey: "tier") { staticValues staticValue } } }`));
    expect(values.customer.entitlement).toEqual({ staticValues: ["bronze", "gold"], staticValue: "bronze" });
    // lv-one's single value kept its place: the next event it hears is a later write's.
    await s.grant("lv-one", { featureKey: "tier", staticValue: "silver" });
    expect(await next()).toMatchObject({ customer: { externalId: "lv-one" }, cause: "GRANT_CHANGED" });
  });

  it("lets a customer token follow its own customer only", async () => {
    const token = ok(await t.gql(`mutation { createCustomerToken(customer: { externalId: "u1" }) { token } }`)).createCustomerToken.token;
    const own = await subscribe({}, token);
    // Not for this token: another customer's grant; a grant that changes nothing for u1 (a
    // disabled one, while an enabled one gives u1 sso already); a read.
    await s.grant("u2", { featureKey: "sso", priority: 1 });
    await s.grant("u1", { featureKey: "sso", isEnabled: false, priority: 9 });
    ok(await t.gql(`{ customer(externalId: "u1") { id } }`));
    // Then one that is: the first event the token hears is this cancellation's.
    ok(await t.gql(`mutation ($s: ID!) { cancelSubscription(input: { subscriptionId: $s }) { id } }`, { s: await subscriptionOf("u1") }));
    const event = (await own.next()).data.entitlementsChanged;
    expect(event).toMatchObject({ customer: { externalId: "u1" }, cause: "SUBSCRIPTION_CHANGED", changedFeatureKeys: ["exports"] });

    const denied = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", token, SUBSCRIBE, {
      c: { externalId: "u2" },
    });
    open.push(denied);
    expect((await denied.next()).errors?.[0]?.extensions?.code).toBe("PERMISSION_DENIED");
  });
});
