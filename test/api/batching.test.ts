// A dashboard page over the catalog graph costs the same few SQL statements for 1, 5 or
// 20 customers: every nested lookup is batched (plugin-prisma's selections or DataLoaders).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const counter = new SqlCounter();
let t: TestApp;
beforeAll(async () => {
  // Without the entitlement cache: every lookup reaches the database, so batching shows
  // (test/api/cache.test.ts counts the cached path).
  t = await createTestApp({ sqlCounter: counter, cacheSettings: { enabled: false } });
});
afterAll(() => t.close());

const DASHBOARD = `query ($first: Int!) {
  customers(first: $first) { totalCount edges { node {
    externalId
    subscriptions { totalCount edges { node {
      status quantity plan { key }
      phases { plan { key } quantity }
      addons { quantity addon { key entitlements { feature { key } usageLimit } } }
      overrides { feature { key } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit }
    } } }
    grants { totalCount edges { node { feature { key } usageLimit priority } } }
  } } }
}`;

/** A project with `size` customers, each on a plan with an add-on, an override and a grant. */
async function projectWithCustomers(size: number): Promise<string> {
  const { key } = await t.newProject(`batching-${size}`);
  const run = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await t.gql(query, variables, { key });
    expect(result.errors).toBeUndefined();
    return result.data;
  };
  const s = seed(t, key);
  await s.feature({ key: "api-calls", name: "API calls", type: "METERED" });
  await s.feature({ key: "seats", name: "Seats", type: "METERED" });
  const catalog = {
    plan: await s.plan({ key: "pro", name: "Pro", entitlements: { "api-calls": { usageLimit: 100 }, seats: { usageLimit: 3 } } }),
    addon: await s.plan({ key: "boost", name: "Boost", kind: "ADDON", entitlements: { "api-calls": { usageLimit: 50 } } }),
  };
  // Up to 100 customers: ten per request (a customer, a subscription with an add-on, a grant,
  // usage), not one request per object as `seed` makes them.
  for (let from = 0; from < size; from += 10) {
    const batch = Array.from({ length: Math.min(10, size - from) }, (_, i) => from + i);
    const created = await run(
      `mutation ($plan: ID!, $addon: ID!) { ${batch
        .map(
          (i) => `c${i}: createCustomer(input: { externalId: "customer-${String(i).padStart(3, "0")}" }) { id }
          s${i}: createSubscription(input: { customer: { externalId: "customer-${String(i).padStart(3, "0")}" }, planId: $plan, addons: [{ addonId: $addon }] }) { id }
          g${i}: createGrant(input: { customer: { externalId: "customer-${String(i).padStart(3, "0")}" }, featureKey: "seats", usageLimit: 2 }) { id }
          u${i}: recordUsage(input: { customer: { externalId: "customer-${String(i).padStart(3, "0")}" }, featureKey: "api-calls", quantity: ${i + 1} }) { id }`,
        )
        .join("\n")} }`,
      { plan: catalog.plan.id, addon: catalog.addon.id },
    );
    await run(
      `mutation { ${batch
        .map(
          (i) =>
            `o${i}: setSubscriptionOverride(input: { subscriptionId: "${created[`s${i}`].id}", featureKey: "api-calls", usageLimit: 500 }) { id }`,
        )
        .join("\n")} }`,
    );
  }
  return key;
}

const ENTITLEMENTS_PAGE = `query ($first: Int!) {
  customers(first: $first) { edges { node {
    entitlements { featureKey usageLimit hasAccess usage { used } sources { type entityName subscription { id } } }
  } } }
}`;

async function statementsFor(key: string, first: number, query = DASHBOARD) {
  counter.reset();
  const result = await t.gql(query, { first }, { key });
  expect(result.errors).toBeUndefined();
  expect(result.data.customers.edges).toHaveLength(first);
  if (query === DASHBOARD) {
    const overrides = result.data.customers.edges.flatMap((edge: any) =>
      edge.node.subscriptions.edges.flatMap((s: any) => s.node.overrides),
    );
    expect(overrides.every((o: any) => o.usageLimit === 500 && o.resetPeriod === "MONTHLY")).toBe(true);
  } else {
    const calls = result.data.customers.edges.map((edge: any) => edge.node.entitlements.find((e: any) => e.featureKey === "api-calls"));
    // 500 from the override (quantity 1) + 50 from the add-on; customer i used i + 1 calls.
    expect(calls.map((e: any) => [e.usageLimit, e.usage.used])).toEqual(calls.map((_: unknown, i: number) => [550, i + 1]));
  }
  return counter.count;
}

describe("SQL statements per request", () => {
  it("stay the same for 1, 5 and 20 customers on a dashboard page", async () => {
    const counts: Record<number, number> = {};
    for (const size of [1, 5, 20]) counts[size] = await statementsFor(await projectWithCustomers(size), size);
    console.log(`SQL statements per dashboard request by customers on the page: ${JSON.stringify(counts)}`);
    expect(counts[5]).toBe(counts[1]);
    expect(counts[20]).toBe(counts[1]);
    // Measured: 24 (one per table and nesting level; the catalog is read whole, in three).
    expect(counts[1]).toBeLessThanOrEqual(24);
  });

  it("stay the same for 1, 10 and 100 customers' entitlements with sources and usage", async () => {
    const counts: Record<number, number> = {};
    for (const size of [1, 10, 100]) counts[size] = await statementsFor(await projectWithCustomers(size), size, ENTITLEMENTS_PAGE);
    console.log(`SQL statements per entitlements page by customers on the page: ${JSON.stringify(counts)}`);
    expect(counts[10]).toBe(counts[1]);
    expect(counts[100]).toBe(counts[1]);
    expect(counts[1]).toBeLessThanOrEqual(12);
  });

  it("the counter sees an unbatched path grow with its size (positive control)", async () => {
    const key = (await t.newProject("control")).key;
    const lookups = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `f${i}: features(first: 1) { totalCount }`).join(" ")} }`;
    counter.reset();
    await t.gql(lookups(1), {}, { key });
    const one = counter.count;
    counter.reset();
    await t.gql(lookups(5), {}, { key });
    expect(counter.count).toBeGreaterThanOrEqual(one + 4);
  });
});
