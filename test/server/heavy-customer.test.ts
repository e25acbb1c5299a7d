// A heavy customer over real HTTP on PostgreSQL: 200,000 usage records in the current period
// (bulk-loaded, then summed by rebuildUsageAggregates) beside a light customer with ten. A
// check, a usage read and a recordUsage answer what the plain SUM says, and send the same
// number of SQL statements for both (the server's statements counted in process).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { rebuildUsageAggregates } from "../../src/db/usage-records.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { graphql } from "../helpers/process.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const key = "ent_heavy-customer-test-key-0123456789abcdef";
const HEAVY_RECORDS = 200_000;
const DAY = 86_400_000;
let database: Awaited<ReturnType<typeof createTemporaryDatabase>>;
let server: RunningServer;
const counter = new SqlCounter();
const gql = async (query: string, variables?: Record<string, unknown>) => {
  const response = await graphql(server.url, key, query, variables);
  expect(response.errors).toBeUndefined();
  return response.data;
};
const ids = { light: "", heavy: "" };
let featureId = "";
let period = { start: new Date(0), end: new Date(0) };

beforeAll(async () => {
  database = await createTemporaryDatabase("entitlements_heavy");
  server = await startServer(
    loadConfig({
      DATABASE_URL: database.url,
      PORT: "0",
      HOST: "127.0.0.1",
      BOOTSTRAP_API_KEY: key,
      SEED_DEMO: "false",
      LOG_LEVEL: "silent",
      // Every read reaches the database, and no budget runs out.
      ENTITLEMENT_CACHE: "false",
      RATE_LIMIT_REQUESTS: "0",
      RATE_LIMIT_USAGE: "0",
      // The scheduled-transition scan's and the webhook worker's statements would land in the requests' counts.
      TRANSITION_SCAN_INTERVAL_MS: "60000",
      WEBHOOK_POLL_INTERVAL_MS: "60000",
      EVENT_POLL_INTERVAL_MS: "60000", // nor the event-job runner's
    }),
    createLogger("silent"),
    { wrapAdapter: counter.wrap },
  );
  const s = seed((query, variables) => graphql(server.url, key, query, variables));
  await s.feature({ key: "calls", type: "METERED" });
  const plan = await s.plan({ key: "metered", entitlements: { calls: { usageLimit: 1e9, resetPeriod: "MONTHLY" } } });
  // An anchor off every bucket edge: both ends of the period are partial minutes.
  const anchor = new Date(Date.now() - 20 * DAY - 12_345).toISOString();
  const prisma = server.database.prisma;
  for (const name of ["light", "heavy"] as const) {
    await s.customer(name);
    await s.subscription(name, { planId: plan.id, startsAt: anchor, billingAnchor: anchor });
    ids[name] = (await prisma.customer.findFirstOrThrow({ where: { externalId: name } })).id;
  }
  featureId = (await prisma.feature.findFirstOrThrow({ where: { key: "calls" } })).id;
  const usage = (await gql(`{ customer(externalId: "heavy") { entitlement(featureKey: "calls") { usage { periodStart periodEnd } } } }`))
    .customer.entitlement.usage;
  period = { start: new Date(usage.periodStart), end: new Date(usage.periodEnd) };
  const span = Date.now() - 60_000 - period.start.getTime();
  for (let i = 0; i < 10; i++) {
    const timestamp = new Date(period.start.getTime() + (span * i) / 10).toISOString();
    await gql(`mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`, {
      input: { customer: { externalId: "light" }, featureKey: "calls", quantity: i + 1, timestamp },
    });
  }
  // Uneven quantities, a few records before the period (not counted), the first edge minute included.
  await prisma.$executeRaw`
    INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp")
    SELECT gen_random_uuid(), c."projectId", c."id", ${featureId}::uuid, (g % 7) + 0.25,
           ${period.start}::timestamptz + ((g - 50) * ${span / HEAVY_RECORDS}::float8) * interval '1 millisecond'
    FROM generate_series(0, ${HEAVY_RECORDS - 1}::int) g, "Customer" c WHERE c."id" = ${ids.heavy}::uuid`;
  await rebuildUsageAggregates({ query: (sql) => prisma.$executeRawUnsafe(sql) });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

/** The plain SUM of the customer's records in the period. */
async function plainSum(name: "light" | "heavy"): Promise<number> {
  const [row] = await server.database.prisma.$queryRaw<{ used: number }[]>`
    SELECT COALESCE(SUM("quantity"), 0)::float8 AS used FROM "UsageRecord"
    WHERE "customerId" = ${ids[name]}::uuid AND "featureId" = ${featureId}::uuid
      AND "timestamp" >= ${period.start} AND "timestamp" < ${period.end}`;
  return row!.used;
}

/** The answer to `query` for `name`, and the SQL statements the server sent for it. */
async function measured(name: "light" | "heavy", query: string) {
  counter.reset();
  const data = await gql(query.replace("$name", name));
  return { data, statements: counter.count };
}

const CHECK = `{ checkEntitlement(customer: { externalId: "$name" }, featureKey: "calls", quantity: 1) { allowed reason entitlement { usage { used } } } }`;
const USAGE = `{ customer(externalId: "$name") { entitlements { featureKey usage { used } } } }`;
const RECORD = `mutation { recordUsage(input: { customer: { externalId: "$name" }, featureKey: "calls", quantity: 7 }) { quantity } }`;

describe("a heavy customer over HTTP", () => {
  it("has as many records as loaded, and the sums of both customers are the plain SUM", async () => {
    expect(await server.database.prisma.usageRecord.count({ where: { customerId: ids.heavy } })).toBe(HEAVY_RECORDS);
    for (const name of ["light", "heavy"] as const) {
      const expected = await plainSum(name);
      expect(expected).toBeGreaterThan(0);
      expect((await measured(name, CHECK)).data.checkEntitlement).toEqual({
        allowed: true,
        reason: "ENTITLED",
        entitlement: { usage: { used: expected } },
      });
      expect((await measured(name, USAGE)).data.customer.entitlements).toEqual([{ featureKey: "calls", usage: { used: expected } }]);
    }
  });

  it("a check, a usage read and a recordUsage send the same SQL statements for heavy as for light", async () => {
    for (const query of [CHECK, USAGE, RECORD]) {
      const light = await measured("light", query);
      const heavy = await measured("heavy", query);
      expect(heavy.statements).toBeGreaterThan(0);
      expect(heavy.statements, query).toBe(light.statements);
    }
  });

  it("a recordUsage adds exactly its quantity for the heavy customer", async () => {
    const before = await plainSum("heavy");
    const used = async () => (await gql(USAGE.replace("$name", "heavy"))).customer.entitlements[0].usage.used as number;
    expect(await used()).toBe(before);
    expect((await gql(RECORD.replace("$name", "heavy"))).recordUsage).toEqual({ quantity: 7 });
    expect(await used()).toBe(before + 7);
    expect(await plainSum("heavy")).toBe(before + 7);
  });
});
