// Nothing committed is lost (docs/rules.md §6), with real server processes on one PostgreSQL
// database and the machine's Redis between them, through a TCP proxy this test can make refuse:
// - a subscriber on A hears every event B logs while Redis is away, late and in order;
// - a subscriber that reconnects with `after` gets exactly what it missed, then live events;
// - an instance killed (SIGKILL) right after a catalog edit reaching 2,000 customers leaves
//   its fan-out to the others, which log one event per customer and none twice, and deliver
//   each to a subscriber and to a webhook receiver.
import { randomUUID } from "node:crypto";
import { createClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { graphql, startServerProcess, type ServerProcess } from "../helpers/process.ts";
import { seed, type Gql } from "../helpers/seed.ts";
import { subscribeSse, type SseSubscription } from "../helpers/sse.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { answerWith, startReceiver } from "../helpers/webhook-receiver.ts";
import { waitUntil } from "../helpers/wait.ts";

const key = "ent_durable-events-test-key-0123456789abcdef";
const redisUrl = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
let database: Awaited<ReturnType<typeof createTemporaryDatabase>>;
let sql: pg.Client;
let redis: TcpProxy;
let env: Record<string, string>;
let a: ServerProcess;
let b: ServerProcess;
const open: { close(): Promise<void> }[] = [];
const throughB: Gql = (query, variables) => graphql(b.url, key, query, variables);
const s = seed(throughB);

const EVENTS = `subscription ($c: CustomerRef, $after: ID) {
  entitlementsChanged(customer: $c, after: $after) { id cause changedFeatureKeys customer { externalId } }
}`;

beforeAll(async () => {
  database = await createTemporaryDatabase("entitlements_durable");
  redis = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  env = {
    DATABASE_URL: database.url,
    REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    BOOTSTRAP_API_KEY: key,
    SEED_DEMO: "false",
    LOG_LEVEL: "info",
    EVENT_POLL_INTERVAL_MS: "300",
    EVENT_JOB_LEASE_MS: "3000",
    WEBHOOK_ALLOW_PRIVATE_URLS: "true", // the test's receiver is on loopback
  };
  [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  await s.feature({ key: "sso", type: "BOOLEAN" });
  await s.feature({ key: "exports", type: "METERED" });
  for (const customer of ["away-1", "away-2", "resume-1"]) await s.customer(customer);
}, 120_000);
afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close().catch(() => undefined)));
  await Promise.all([a?.stop(), b?.stop()]);
  await sql?.end();
  await redis?.close();
  await database?.drop();
});

/** The log's latest id now (none while it is empty): a subscriber starting after it hears exactly what is logged next. */
const latestId = async (): Promise<string | undefined> =>
  (await sql.query(`SELECT max(id)::text AS id FROM "LoggedEvent"`)).rows[0].id ?? undefined;

/** Reads events from an SSE subscription until `count` have come. */
async function take(subscription: SseSubscription, count: number, timeoutMs = 10_000) {
  const events: { id: string; customer: { externalId: string }; cause: string; changedFeatureKeys: string[] }[] = [];
  while (events.length < count) {
    const next = await subscription.next(timeoutMs);
    if (next.errors) throw new Error(JSON.stringify(next.errors));
    events.push(next.data.entitlementsChanged);
  }
  return events;
}

/** Each customer's sso grant in force, if any. */
const ssoGrants = new Map<string, string>();
/** Grants and voids sso for a customer in turn, `count` times: each is one change. */
async function toggle(customer: string, count: number) {
  for (let index = 0; index < count; index++) {
    const granted = ssoGrants.get(customer);
    if (granted === undefined) ssoGrants.set(customer, (await s.grant(customer, { featureKey: "sso" })).id);
    else {
      const voided = await throughB(`mutation ($id: ID!) { voidGrant(id: $id) { id } }`, { id: granted });
      if (voided.errors) throw new Error(JSON.stringify(voided.errors));
      ssoGrants.delete(customer);
    }
  }
}

const increasing = (ids: string[]) => ids.every((id, index) => index === 0 || BigInt(id) > BigInt(ids[index - 1]!));

describe("durable events across instances", () => {
  it("a subscriber on A hears all that B logs while Redis is away, in order, once the log is read", async () => {
    const subscription = await subscribeSse(fetch, `${a.url}/graphql`, key, EVENTS, { after: await latestId() });
    open.push(subscription);
    redis.setMode("refuse");
    try {
      await toggle("away-1", 15);
      await toggle("away-2", 15);
      const heard = await take(subscription, 30);
      const logged = (await sql.query(`SELECT l.id::text AS id FROM "LoggedEvent" l ORDER BY l.id DESC LIMIT 30`)).rows
        .map((row) => row.id)
        .reverse();
      expect(heard.map((event) => event.id)).toEqual(logged);
      expect(increasing(heard.map((event) => event.id))).toBe(true);
      expect(heard.map((event) => event.customer.externalId)).toEqual([...Array(15).fill("away-1"), ...Array(15).fill("away-2")]);
      await expect(subscription.next(700)).rejects.toThrow(/no event within/); // nothing twice
    } finally {
      redis.setMode("forward");
    }
  });

  it("a graphql-ws subscriber that reconnects with `after` gets exactly the 20 it missed, in order, then live ones", async () => {
    const connect = (variables: Record<string, unknown>) => {
      const client = createClient({
        url: `${a.url.replace("http", "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
      });
      open.push({ close: () => client.dispose() as Promise<void> });
      const heard: { id: string; changedFeatureKeys: string[] }[] = [];
      client.subscribe(
        { query: EVENTS, variables },
        { next: (value) => heard.push((value.data as any).entitlementsChanged), error: () => {}, complete: () => {} },
      );
      return { heard, close: () => client.dispose() as Promise<void> };
    };
    const first = connect({ c: { externalId: "resume-1" }, after: await latestId() });
    await toggle("resume-1", 1);
    await waitUntil(() => first.heard.length === 1, { what: "the first event" });
    const lastSeen = first.heard[0]!.id;
    await first.close();

    await toggle("resume-1", 20); // missed
    const missed = (await sql.query(`SELECT l.id::text AS id FROM "LoggedEvent" l WHERE l.id > $1 ORDER BY l.id`, [lastSeen])).rows.map(
      (row) => row.id,
    );
    expect(missed).toHaveLength(20);
    const again = connect({ c: { externalId: "resume-1" }, after: lastSeen });
    await waitUntil(() => again.heard.length === 20, { what: "the 20 missed events", timeoutMs: 10_000 });
    expect(again.heard.map((event) => event.id)).toEqual(missed);
    await toggle("resume-1", 1); // live
    await waitUntil(() => again.heard.length === 21, { what: "the live event" });
    expect(BigInt(again.heard[20]!.id)).toBeGreaterThan(BigInt(missed.at(-1)!));
  });

  it("refuses an `after` the log does not hold", async () => {
    const unknown = await subscribeSse(fetch, `${a.url}/graphql`, key, EVENTS, { after: "999999999" });
    open.push(unknown);
    expect((await unknown.next()).errors?.[0]?.extensions?.code).toBe("INVALID_OPERATION");
  });

  it("an instance killed right after a catalog edit reaching 2,000 customers: the others log one event per customer, none twice", async () => {
    const [{ id: projectId }] = (await sql.query(`SELECT id FROM "Project" LIMIT 1`)).rows;
    const plan = await s.plan({ key: "fleet", entitlements: { exports: { usageLimit: 10 } } });
    const planRowId = Buffer.from(plan.id, "base64").toString().split(":")[1]!;
    // 2,000 customers on the plan, written straight to the database (setup, not the subject).
    const customers = Array.from({ length: 2000 }, (_, index) => ({ id: randomUUID(), externalId: `fleet-${index}` }));
    const startsAt = new Date(Date.now() - 86_400_000).toISOString();
    await sql.query(
      `INSERT INTO "Customer" (id, "projectId", "externalId", "updatedAt") SELECT c.id, $1, c.external, now() FROM unnest($2::uuid[], $3::text[]) AS c(id, external)`,
      [projectId, customers.map((c) => c.id), customers.map((c) => c.externalId)],
    );
    const subscriptionIds = customers.map(() => randomUUID());
    await sql.query(
      `INSERT INTO "CustomerSubscription" (id, "projectId", "customerId", "startsAt", "billingAnchor", "updatedAt")
       SELECT s.id, $1, s.customer, $3, $3, now() FROM unnest($2::uuid[], $4::uuid[]) AS s(id, customer)`,
      [projectId, subscriptionIds, startsAt, customers.map((c) => c.id)],
    );
    await sql.query(
      `INSERT INTO "SubscriptionPhase" (id, "subscriptionId", "planId", "startsAt") SELECT gen_random_uuid(), s, $2, $3 FROM unnest($1::uuid[]) AS s`,
      [subscriptionIds, planRowId, startsAt],
    );
    const after = (await latestId()) ?? "0";
    const watcher = await subscribeSse(fetch, `${a.url}/graphql`, key, EVENTS, { after: await latestId() });
    open.push(watcher);
    const hook = await startReceiver(answerWith(204));
    open.push(hook);
    const registered = await throughB(
      `mutation ($u: String!) { createWebhookEndpoint(input: { url: $u, eventTypes: [ENTITLEMENTS_CHANGED] }) { signingSecret } }`,
      { u: hook.url },
    );
    hook.secret = registered.data.createWebhookEndpoint.signingSecret;

    const doomed = await startServerProcess(env);
    const edit = await graphql(
      doomed.url,
      key,
      `mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "sso" }) { id } }`,
      {
        p: plan.id,
      },
    );
    doomed.child.kill("SIGKILL");
    expect(edit.errors).toBeUndefined();

    const counted = async () =>
      (
        await sql.query(
          `SELECT count(*)::int AS events, count(DISTINCT "customerId")::int AS customers FROM "LoggedEvent"
           WHERE id > $1 AND data->>'cause' = 'CATALOG_CHANGED'`,
          [after],
        )
      ).rows[0] as { events: number; customers: number };
    const jobsLeft = async () => (await sql.query(`SELECT count(*)::int AS jobs FROM "EventJob"`)).rows[0].jobs as number;
    await waitUntil(async () => (await jobsLeft()) === 0, { what: "the fan-out job to be done", timeoutMs: 60_000, intervalMs: 250 });
    expect(await counted()).toEqual({ events: 2000, customers: 2000 });
    // The subscriber on A heard each of them once, in log order.
    const heard = await take(watcher, 2000, 30_000);
    expect(new Set(heard.map((event) => event.customer.externalId)).size).toBe(2000);
    expect(increasing(heard.map((event) => event.id))).toBe(true);
    await expect(watcher.next(700)).rejects.toThrow(/no event within/);
    // And the webhook receiver got each of them, signed, whichever instance delivered it.
    const logged = (await sql.query(`SELECT l.id::text AS id FROM "LoggedEvent" l WHERE l.id > $1`, [after])).rows.map((row) => row.id);
    await waitUntil(() => hook.ids().size >= 2000, { what: "2,000 webhooks", timeoutMs: 60_000, intervalMs: 250 });
    expect(hook.ids()).toEqual(new Set(logged));
    expect(hook.received.every((request) => request.verified)).toBe(true);
  }, 180_000);
});
