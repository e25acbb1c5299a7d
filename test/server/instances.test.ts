// Two server processes (`npm start`'s entry) on one PostgreSQL database and the machine's
// Redis: a subscriber on one instance hears writes made through the other, and a scheduled
// transition once, whichever instance's scan finds it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { graphql, startServerProcess, type ServerProcess } from "../helpers/process.ts";
import { subscribeSse, type SseSubscription } from "../helpers/sse.ts";

const key = "ent_instances-test-key-0123456789abcdef";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
let database: Awaited<ReturnType<typeof createTemporaryDatabase>>;
let first: ServerProcess;
let second: ServerProcess;
const open: SseSubscription[] = [];

beforeAll(async () => {
  database = await createTemporaryDatabase("entitlements_instances");
  const env = { DATABASE_URL: database.url, REDIS_URL, BOOTSTRAP_API_KEY: key, SEED_DEMO: "false", LOG_LEVEL: "info" };
  first = await startServerProcess(env);
  second = await startServerProcess(env);
  const setup = await graphql(second.url, key, `mutation {
    f: createFeature(input: { key: "sso", name: "SSO", type: BOOLEAN }) { id }
    a: createCustomer(input: { externalId: "across-1" }) { id }
    b: createCustomer(input: { externalId: "across-2" }) { id }
  }`);
  expect(setup.errors).toBeUndefined();
}, 120_000);
afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close()));
  await Promise.all([first?.stop(), second?.stop()]);
  await database?.drop();
});

const subscribeOnFirst = async (externalId: string) => {
  const subscription = await subscribeSse(fetch, `${first.url}/graphql`, key, `subscription ($c: CustomerRef!) {
    entitlementsChanged(customer: $c) { cause changedFeatureKeys occurredAt customer { externalId } entitlements { featureKey } }
  }`, { c: { externalId } });
  open.push(subscription);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return subscription;
};

describe("two instances, one database, Redis between them", () => {
  it("both report Redis as their event transport", () => {
    for (const instance of [first, second]) expect(instance.output()).toContain('"events":"redis"');
  });

  it("a subscriber on the first hears a grant written through the second", async () => {
    const events = await subscribeOnFirst("across-1");
    const granted = await graphql(second.url, key, `mutation { createGrant(input: { customer: { externalId: "across-1" }, featureKey: "sso" }) { id } }`);
    expect(granted.errors).toBeUndefined();
    expect((await events.next()).data.entitlementsChanged).toMatchObject({
      cause: "GRANT_CHANGED",
      changedFeatureKeys: ["sso"],
      customer: { externalId: "across-1" },
      entitlements: [{ featureKey: "sso" }],
    });
  });

  it("a scheduled start is announced once within 2 seconds, with no write at that instant", async () => {
    const events = await subscribeOnFirst("across-2");
    const startsAt = new Date(Date.now() + 1500);
    const granted = await graphql(second.url, key, `mutation ($at: DateTime!) { createGrant(input: { customer: { externalId: "across-2" }, featureKey: "sso", effectiveAt: $at }) { id } }`, {
      at: startsAt.toISOString(),
    });
    expect(granted.errors).toBeUndefined();
    const event = (await events.next(5000)).data.entitlementsChanged;
    const heardAt = Date.now();
    expect(event).toMatchObject({ cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["sso"], occurredAt: startsAt.toISOString() });
    expect(heardAt - startsAt.getTime()).toBeLessThan(2000);
    // Both instances scan; the shared cursor lets only one of them announce it.
    await expect(events.next(1500)).rejects.toThrow(/no event/);
  });
});
