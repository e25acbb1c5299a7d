// The entitlement cache through the API: a warm check costs no SQL statement, writes and
// usage are seen at once, and with Redis a write through one instance reaches the cache of
// another.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";
import { waitUntil } from "../helpers/wait.ts";
import { createApp } from "../../src/yoga.ts";
import { createEventBus } from "../../src/events/bus.ts";
import { connectRedisRelay } from "../../src/events/redis-relay.ts";
import { createLogger } from "../../src/logger.ts";

const counter = new SqlCounter();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ sqlCounter: counter });
  const s = seed(t);
  await s.feature({ key: "exports", type: "METERED" });
  const team = await s.plan({ key: "team", entitlements: { exports: { usageLimit: 10 } } });
  await s.customer("cached");
  await s.subscription("cached", { planId: team.id });
});
afterAll(() => t.close());

/** Asks an app of this test's own (not `t.app`) as the admin. */
async function ask(app: ReturnType<typeof createApp>, query: string, variables?: Record<string, unknown>) {
  const response = await app.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${t.adminKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse;
}
const askApp = async (app: ReturnType<typeof createApp>, query: string) => ok(await ask(app, query));

/** What `read` answers once it answers something other than `from`. */
const changedFrom = async <T>(from: T, read: () => Promise<T>, what: string) =>
  (
    await waitUntil(
      async () => {
        const now = await read();
        return now !== from ? { now } : null;
      },
      { timeoutMs: 5000, what }, // a note through Redis, on a machine the whole suite shares
    )
  ).now;

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
    // Each write goes through the API, as a user's would; each check right after must see it.
    const s = seed(t);
    ok(await t.gql(CHECK));
    await s.grant("cached", { featureKey: "exports", usageLimit: 5 });
    expect(ok(await t.gql(CHECK)).checkEntitlement.entitlement.usageLimit).toBe(15);
    const plan = ok(await t.gql(`{ plan(key: "team") { id } }`)).plan.id;
    await s.entitlement(plan, "exports", { usageLimit: 20 });
    expect(ok(await t.gql(CHECK)).checkEntitlement.entitlement.usageLimit).toBe(25);
    await s.usage("cached", { featureKey: "exports", quantity: 3 });
    expect(ok(await t.gql(CHECK)).checkEntitlement.entitlement.usage.used).toBe(3);
  });

  it("a revoked API key stops working at once, though it was cached", async () => {
    const created = ok(
      await t.gql(`mutation { createApiKey(input: { name: "short-lived", scopes: [READ] }) { apiKey { id } secret } }`),
    ).createApiKey;
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
      // B's writes reach A's cache through Redis, a moment later: A is asked until it answers
      // something new, and what it answers must then be exactly B's change.
      const onA = async () => (await askApp(a!, CHECK)).checkEntitlement.entitlement;
      const throughB = seed((query, variables) => ask(b!, query, variables));
      const before = (await onA()).usageLimit;
      await throughB.grant("cached", { featureKey: "exports", usageLimit: 100 });
      expect(await changedFrom(before, async () => (await onA()).usageLimit, "A to see B's grant")).toBe(before + 100);

      const usedBefore = (await onA()).usage.used;
      await throughB.usage("cached", { featureKey: "exports", quantity: 2 });
      expect(await changedFrom(usedBefore, async () => (await onA()).usage.used, "A to see B's usage")).toBe(usedBefore + 2);
    } finally {
      await Promise.all(relays.map((relay) => relay.close()));
    }
  });
});
