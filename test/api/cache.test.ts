// The entitlement cache through the API: a warm check costs no SQL statement, writes and
// usage are seen at once, and with Redis a write through one instance reaches the cache of
// another.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";
import { createApp } from "../../src/yoga.ts";
import { createEventBus } from "../../src/events/bus.ts";
import { connectRedisRelay } from "../../src/events/redis-relay.ts";
import { createLogger } from "../../src/logger.ts";

const counter = new SqlCounter();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ sqlCounter: counter });
  ok(await t.gql(`mutation {
    f: createFeature(input: { key: "exports", name: "Exports", type: METERED }) { id }
    p: createPlan(input: { key: "team", name: "Team" }) { id }
    c: createCustomer(input: { externalId: "cached" }) { id }
  }`));
  const plan = ok(await t.gql(`{ plan(key: "team") { id } }`)).plan.id;
  ok(await t.gql(`mutation ($p: ID!) {
    e: setPlanEntitlement(input: { planId: $p, featureKey: "exports", usageLimit: 10 }) { id }
    s: createSubscription(input: { customer: { externalId: "cached" }, planId: $p }) { id }
  }`, { p: plan }));
});
afterAll(() => t.close());

/** Asks an app of this test's own (not `t.app`) as the admin. */
async function askApp(app: ReturnType<typeof createApp>, query: string) {
  const response = await app.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${t.adminKey}` },
    body: JSON.stringify({ query }),
  });
  return ok((await response.json()) as { data: any });
}

const CHECK = `{ checkEntitlement(customer: { externalId: "cached" }, featureKey: "exports") { allowed entitlement { usageLimit usage { used } } } }`;

describe("entitlement cache", () => {
  it("answers a warm check without any SQL statement, usage included", async () => {
    ok(await t.gql(CHECK));
    counter.reset();
    const warm = ok(await t.gql(CHECK)).checkEntitlement;
    expect(warm).toEqual({ allowed: true, entitlement: { usageLimit: 10, usage: { used: 0 } } });
    expect(counter.statements).toEqual([]);
  });

  it("switched off (ENTITLEMENT_CACHE=false), reads every row from the database each time", async () => {
    const uncached = createApp({
      database: t.database,
      log: createLogger("silent"),
      isReady: async () => ({ ready: true }),
      cacheSettings: { enabled: false },
    });
    await askApp(uncached, CHECK);
    counter.reset();
    expect((await askApp(uncached, CHECK)).checkEntitlement.allowed).toBe(true);
    // The API key, the customer, its subscriptions and grants, the catalog and the usage.
    expect(counter.statements.length).toBeGreaterThan(3);
  });

  it("sees a grant, a plan edit and usage at once", async () => {
    ok(await t.gql(CHECK));
    ok(await t.gql(`mutation { createGrant(input: { customer: { externalId: "cached" }, featureKey: "exports", usageLimit: 5 }) { id } }`));
    expect(ok(await t.gql(CHECK)).checkEntitlement.entitlement.usageLimit).toBe(15);
    const plan = ok(await t.gql(`{ plan(key: "team") { id } }`)).plan.id;
    ok(await t.gql(`mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "exports", usageLimit: 20 }) { id } }`, { p: plan }));
    expect(ok(await t.gql(CHECK)).checkEntitlement.entitlement.usageLimit).toBe(25);
    ok(await t.gql(`mutation { recordUsage(input: { customer: { externalId: "cached" }, featureKey: "exports", quantity: 3 }) { id } }`));
    expect(ok(await t.gql(CHECK)).checkEntitlement.entitlement.usage.used).toBe(3);
  });

  it("a revoked API key stops working at once, though it was cached", async () => {
    const created = ok(await t.gql(`mutation { createApiKey(input: { name: "short-lived", scopes: [READ] }) { apiKey { id } secret } }`)).createApiKey;
    expect(ok(await t.gql(CHECK, {}, { key: created.secret })).checkEntitlement.allowed).toBe(true);
    ok(await t.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.apiKey.id }));
    const refused = await t.gql(CHECK, {}, { key: created.secret });
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("with Redis, a grant and usage written through one instance reach another instance's cache", async () => {
    const channel = `entitlements:test:${randomUUID()}`;
    const log = createLogger("silent");
    const url = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
    const relays = [connectRedisRelay({ url, log, channel }), connectRedisRelay({ url, log, channel })];
    await Promise.all(relays.map((relay) => relay.ready));
    const [a, b] = relays.map((relay) =>
      createApp({ database: t.database, log, isReady: async () => ({ ready: true }), events: createEventBus({ relay }) }),
    );
    try {
      const before = (await askApp(a!, CHECK)).checkEntitlement.entitlement.usageLimit;
      await askApp(b!, `mutation { createGrant(input: { customer: { externalId: "cached" }, featureKey: "exports", usageLimit: 100 }) { id } }`);
      const deadline = Date.now() + 2000;
      let seen = before;
      while (seen === before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen = (await askApp(a!, CHECK)).checkEntitlement.entitlement.usageLimit;
      }
      expect(seen).toBe(before + 100);

      const usedBefore = (await askApp(a!, CHECK)).checkEntitlement.entitlement.usage.used;
      await askApp(b!, `mutation { recordUsage(input: { customer: { externalId: "cached" }, featureKey: "exports", quantity: 2 }) { id } }`);
      const usageDeadline = Date.now() + 2000;
      let used = usedBefore;
      while (used === usedBefore && Date.now() < usageDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        used = (await askApp(a!, CHECK)).checkEntitlement.entitlement.usage.used;
      }
      expect(used).toBe(usedBefore + 2);
    } finally {
      await Promise.all(relays.map((relay) => relay.close()));
    }
  });
});
