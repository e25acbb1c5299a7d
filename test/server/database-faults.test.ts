// The database going away mid-traffic, through a TCP proxy between the listening server and
// the machine's PostgreSQL: refused (connections reset) and blackholed (nothing answers).
// Requests fail fast with SERVICE_UNAVAILABLE, /readyz answers 503, and when the database
// returns the same process serves again. Usage recorded meanwhile is stored or refused,
// never silently dropped, and a retry storm with the same idempotency keys counts each once.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { graphql } from "../helpers/process.ts";
import { createTemporaryDatabase, POSTGRES_ADMIN_URL } from "../helpers/postgres.ts";
import { seed } from "../helpers/seed.ts";
import { startTcpProxy, type ProxyMode, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { waitUntil } from "../helpers/wait.ts";

const key = "ent_database-faults-test-key-0123456789";
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 2000;
let database: Awaited<ReturnType<typeof createTemporaryDatabase>>;
let proxy: TcpProxy;
let server: RunningServer;
const totals = { faults: 0, recorded: 0, refusedThenRetried: 0, lost: 0 };

beforeAll(async () => {
  database = await createTemporaryDatabase("entitlements_faults");
  const admin = new URL(POSTGRES_ADMIN_URL);
  proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
  const viaProxy = new URL(database.url);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);
  server = await startServer(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: viaProxy.toString(),
      DATABASE_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      BOOTSTRAP_API_KEY: key,
      SEED_DEMO: "false",
      LOG_LEVEL: "silent",
    }),
    createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
  );
  const s = seed((query, variables) => graphql(server.url, key, query, variables));
  await s.feature({ key: "api-calls", name: "API calls", type: "METERED" });
  await s.customer("acme");
  await s.grant("acme", { featureKey: "api-calls", usageLimit: 1_000_000 });
}, 60_000);

afterAll(async () => {
  console.log(
    `database faults: ${totals.faults} survived, ${totals.recorded} usage records acknowledged, ${totals.refusedThenRetried} refused during a fault and retried, ${totals.lost} lost`,
  );
  await server?.close();
  await proxy?.close();
  await database?.drop();
});

const readyz = async () => (await fetch(`${server.url}/readyz`)).status;

interface Outcome {
  idempotencyKey: string;
  ok: boolean;
  code?: string;
  ms: number;
}

/** `recordUsage` of 1 with a fresh idempotency key, and a page of customers, timed. */
async function recordOnce(idempotencyKey = `fault-${randomUUID()}`): Promise<Outcome> {
  const started = performance.now();
  const result = await graphql(
    server.url,
    key,
    `mutation ($k: String!) {
      recordUsage(input: { customer: { externalId: "acme" }, featureKey: "api-calls", quantity: 1, idempotencyKey: $k }) { id }
    }`,
    { k: idempotencyKey },
  );
  const code = result.errors?.[0]?.extensions?.code as string | undefined;
  return { idempotencyKey, ok: !result.errors, code, ms: performance.now() - started };
}

async function listCustomers(): Promise<{ code?: string; ms: number }> {
  const started = performance.now();
  const result = await graphql(server.url, key, `{ customers(first: 5) { totalCount } }`);
  return { code: result.errors?.[0]?.extensions?.code as string | undefined, ms: performance.now() - started };
}

/** Eight clients sending usage and reads without pause until `stop()`; what they got so far is in `outcomes` and `reads`. */
function traffic() {
  let stopped = false;
  const outcomes: Outcome[] = [];
  const reads: { code?: string; ms: number }[] = [];
  const clients = Promise.all(
    Array.from({ length: 8 }, async (_, client) => {
      while (!stopped) {
        if (client % 2) reads.push(await listCustomers());
        else outcomes.push(await recordOnce());
      }
    }),
  );
  const succeeded = () => ({ records: outcomes.filter((outcome) => outcome.ok).length, reads: reads.filter((read) => !read.code).length });
  const failed = () => ({
    records: outcomes.filter((outcome) => outcome.code === "SERVICE_UNAVAILABLE").length,
    reads: reads.filter((read) => read.code === "SERVICE_UNAVAILABLE").length,
  });
  return {
    outcomes,
    reads,
    succeeded,
    failed,
    /** Stops the clients once their requests in flight are answered. */
    async stop() {
      stopped = true;
      await clients;
      return { outcomes, reads };
    },
  };
}

async function usedAndRecords(keys: string[]) {
  const used = await graphql(
    server.url,
    key,
    `{ customer(externalId: "acme") { entitlement(featureKey: "api-calls") { usage { used } } } }`,
  );
  const rows = await server.database.prisma.usageRecord.findMany({
    where: { idempotencyKey: { in: keys } },
    select: { idempotencyKey: true },
  });
  return { used: used.data?.customer?.entitlement?.usage?.used as number, stored: new Set(rows.map((row) => row.idempotencyKey)) };
}

describe.each<[Exclude<ProxyMode, "forward">, number]>([
  // Refused: connections reset at once, so failures are immediate.
  ["refuse", CONNECT_TIMEOUT_MS + 1000],
  // Blackholed: open connections hang until the query timeout, new ones until the connect timeout.
  ["blackhole", QUERY_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 1000],
])("the database %s mid-traffic", (mode, failFastMs) => {
  it("fails requests fast with SERVICE_UNAVAILABLE and /readyz 503, recovers without a restart, and loses no usage", async () => {
    const { used: usedBefore } = await usedAndRecords([]);
    const running = traffic();
    await waitUntil(() => running.succeeded().records > 0 && running.succeeded().reads > 0, { timeoutMs: 10_000, what: "traffic to flow" });
    proxy.setMode(mode);
    totals.faults++;
    // While it lasts: readiness says so, and requests of both kinds fail (after the timeouts,
    // when blackholed). The fault lasts until all of that has been seen.
    const duringFault = traffic();
    await waitUntil(async () => (await readyz()) === 503, { timeoutMs: 10_000, intervalMs: 100, what: "/readyz to answer 503" });
    await waitUntil(() => duringFault.failed().records > 0 && duringFault.failed().reads > 0, {
      timeoutMs: 10_000,
      what: () => `requests of both kinds to fail during the fault (${JSON.stringify(duringFault.failed())} so far)`,
    });
    const faulted = await duringFault.stop();
    proxy.setMode("forward");
    // Back: readiness returns and requests of both kinds succeed again on the same process.
    await waitUntil(async () => (await readyz()) === 200, { timeoutMs: 5000, intervalMs: 100, what: "/readyz to answer 200 again" });
    const recovered = running.succeeded();
    await waitUntil(() => running.succeeded().records > recovered.records && running.succeeded().reads > recovered.reads, {
      timeoutMs: 10_000,
      what: "traffic to flow again",
    });
    const before = await running.stop();

    const failures = [...faulted.outcomes.filter((outcome) => !outcome.ok), ...faulted.reads.filter((read) => read.code)];
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures.map((failure) => failure.code))).toEqual(new Set(["SERVICE_UNAVAILABLE"]));
    expect(Math.max(...failures.map((failure) => failure.ms))).toBeLessThan(failFastMs);
    // No request anywhere in the run answered anything but success or SERVICE_UNAVAILABLE.
    const all = [...before.outcomes, ...faulted.outcomes];
    expect(all.filter((outcome) => !outcome.ok && outcome.code !== "SERVICE_UNAVAILABLE")).toEqual([]);
    expect([...before.reads, ...faulted.reads].filter((read) => read.code && read.code !== "SERVICE_UNAVAILABLE")).toEqual([]);
    expect(before.reads.length).toBeGreaterThan(0);
    expect((await recordOnce()).ok).toBe(true);

    // A retry storm: every refused key sent three times at once; what the crowd makes fail
    // (SERVICE_UNAVAILABLE while the pool is saturated) is sent again, until all are stored.
    const refused = all.filter((outcome) => !outcome.ok).map((outcome) => outcome.idempotencyKey);
    let pending = refused.flatMap((idempotencyKey) => [idempotencyKey, idempotencyKey, idempotencyKey]);
    await waitUntil(
      async () => {
        const retries = await Promise.all(pending.map((idempotencyKey) => recordOnce(idempotencyKey)));
        expect(retries.filter((retry) => !retry.ok && retry.code !== "SERVICE_UNAVAILABLE")).toEqual([]);
        pending = retries.filter((retry) => !retry.ok).map((retry) => retry.idempotencyKey);
        return pending.length === 0;
      },
      // A client's back-off between rounds, as a well-behaved one would.
      { timeoutMs: 20_000, intervalMs: 250, what: () => `${pending.length} retried usage records to be stored` },
    );
    const acknowledged = all.filter((outcome) => outcome.ok).map((outcome) => outcome.idempotencyKey);
    const keys = [...acknowledged, ...refused];
    const { used, stored } = await usedAndRecords(keys);
    const lost = acknowledged.filter((idempotencyKey) => !stored.has(idempotencyKey));
    expect(lost).toEqual([]);
    expect(stored.size).toBe(keys.length);
    // Each key counted once, plus the one recorded after the fault.
    expect(used - usedBefore).toBe(keys.length + 1);
    totals.recorded += acknowledged.length;
    totals.refusedThenRetried += refused.length;
    totals.lost += lost.length;
  }, 60_000);
});
