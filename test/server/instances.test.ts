// Two server processes (`npm start`'s entry) on one PostgreSQL database and the machine's
// Redis: a subscriber on one instance hears writes made through the other, and a scheduled
// transition once, whichever instance's scan finds it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { PROBE_FEATURE, probeUntilHeard, withoutProbe } from "../helpers/probe.ts";
import { graphql, startServerProcess, type ServerProcess } from "../helpers/process.ts";
import { seed, type Gql } from "../helpers/seed.ts";
import { subscribeSse, type SseSubscription } from "../helpers/sse.ts";

const key = "ent_instances-test-key-0123456789abcdef";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
let database: Awaited<ReturnType<typeof createTemporaryDatabase>>;
let first: ServerProcess;
let second: ServerProcess;
const open: SseSubscription[] = [];
/** Writes go through the second instance; subscribers listen on the first. */
const throughSecond: Gql = (query, variables) => graphql(second.url, key, query, variables);
const s = seed(throughSecond);

beforeAll(async () => {
  database = await createTemporaryDatabase("entitlements_instances");
  const env = { DATABASE_URL: database.url, REDIS_URL, BOOTSTRAP_API_KEY: key, SEED_DEMO: "false", LOG_LEVEL: "info" };
  first = await startServerProcess(env);
  second = await startServerProcess(env);
  await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" });
  await s.feature({ key: "exports", name: "Exports", type: "BOOLEAN" });
  await s.feature(PROBE_FEATURE);
  for (const customer of ["across-1", "across-2"]) await s.customer(customer);
}, 120_000);
afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close()));
  await Promise.all([first?.stop(), second?.stop()]);
  await database?.drop();
});

/** A subscriber on the first instance, registered there (and heard across) before this returns. */
const subscribeOnFirst = async (externalId: string) => {
  const subscription = await subscribeSse(
    fetch,
    `${first.url}/graphql`,
    key,
    `subscription ($c: CustomerRef!) {
    entitlementsChanged(customer: $c) { cause changedFeatureKeys occurredAt customer { externalId } entitlements { featureKey } }
  }`,
    { c: { externalId } },
  );
  open.push(subscription);
  const next = async (timeoutMs?: number) => (await subscription.next(timeoutMs)).data.entitlementsChanged;
  await probeUntilHeard({ seed: s, gql: throughSecond, customer: externalId, next });
  return { next: withoutProbe(next) };
};

describe("two instances, one database, Redis between them", () => {
  it("both report Redis as their event transport", () => {
    for (const instance of [first, second]) expect(instance.output()).toContain('"events":"redis"');
  });

  it("a subscriber on the first hears a grant written through the second", async () => {
    const events = await subscribeOnFirst("across-1");
    await s.grant("across-1", { featureKey: "sso" });
    expect(await events.next()).toMatchObject({
      cause: "GRANT_CHANGED",
      changedFeatureKeys: ["sso"],
      customer: { externalId: "across-1" },
      entitlements: [{ featureKey: "sso" }],
    });
  });

  it("a scheduled start is announced once within 2 seconds, with no write at that instant", async () => {
    const events = await subscribeOnFirst("across-2");
    const startsAt = new Date(Date.now() + 1500);
    await s.grant("across-2", { featureKey: "sso", effectiveAt: startsAt });
    const event = await events.next(5000);
    const heardAt = Date.now();
    expect(event).toMatchObject({ cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["sso"], occurredAt: startsAt.toISOString() });
    expect(heardAt - startsAt.getTime()).toBeLessThan(2000);
    // Both instances scan, every half second; the shared cursor lets only one of them announce
    // it. A second announcement would come within a few scans: this window is the point, so it
    // is waited out — and then a write that must be heard shows that the subscriber was still
    // listening, and that it is the next thing heard.
    await expect(events.next(1500)).rejects.toThrow(/no event/);
    await s.grant("across-2", { featureKey: "exports" });
    expect(await events.next()).toMatchObject({ cause: "GRANT_CHANGED", changedFeatureKeys: ["exports"] });
  });
});
