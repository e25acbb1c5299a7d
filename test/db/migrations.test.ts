// prisma/schema.prisma and prisma/migrations must agree, and migrations apply on both databases.
import { execFileSync } from "node:child_process";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import {
  applyMigrations,
  diffSchemaAgainstMigrations,
  isEmptyMigration,
  pendingMigrations,
  readMigrations,
  readSchema,
} from "../../src/db/migrations.ts";
import { rebuildUsageAggregates } from "../../src/db/usage-records.ts";
import { sumUsage } from "../../src/loaders/usage.ts";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { projectRoot } from "../helpers/process.ts";

const migrationNames = readMigrations().migrationDirectories.map((entry) => entry.path);

const LIMITS_AS_DOUBLES = migrationNames.find((name) => name.endsWith("_usage_limits_as_doubles"));

/**
 * Limits stored as integers before the migration that makes them doubles, read back after
 * it: every value (the largest 32-bit one, 0, none) is kept, and the columns hold doubles.
 */
async function limitsSurviveTheirConversion(database: Database) {
  const all = readMigrations();
  const before = all.migrationDirectories.findIndex((entry) => entry.path === LIMITS_AS_DOUBLES);
  expect(before).toBeGreaterThan(0);
  await applyMigrations(database, { ...all, migrationDirectories: all.migrationDirectories.slice(0, before) });
  const sql = (text: string) => database.prisma.$executeRawUnsafe(text);
  const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, "0")}`;
  await sql(`INSERT INTO "Project" (id, name) VALUES ('${id(1)}', 'p')`);
  for (const n of [1, 2, 3])
    await sql(
      `INSERT INTO "Feature" (id, "projectId", key, name, type, "updatedAt") VALUES ('${id(10 + n)}', '${id(1)}', 'f${n}', 'f', 'METERED', now())`,
    );
  await sql(`INSERT INTO "Plan" (id, "projectId", key, name, "updatedAt") VALUES ('${id(20)}', '${id(1)}', 'plan', 'plan', now())`);
  await sql(`INSERT INTO "PlanEntitlement" (id, "planId", "featureId", "usageLimit", "isUnlimited", "updatedAt") VALUES
    ('${id(31)}', '${id(20)}', '${id(11)}', 2147483647, false, now()), ('${id(32)}', '${id(20)}', '${id(12)}', 0, false, now()),
    ('${id(33)}', '${id(20)}', '${id(13)}', NULL, true, now())`);
  await sql(`INSERT INTO "Customer" (id, "projectId", "externalId", "updatedAt") VALUES ('${id(40)}', '${id(1)}', 'c', now())`);
  await sql(`INSERT INTO "CustomerSubscription" (id, "projectId", "customerId", "startsAt", "billingAnchor", "updatedAt")
    VALUES ('${id(50)}', '${id(1)}', '${id(40)}', now(), now(), now())`);
  await sql(`INSERT INTO "SubscriptionOverride" (id, "subscriptionId", "featureId", "usageLimit", "updatedAt")
    VALUES ('${id(61)}', '${id(50)}', '${id(11)}', 2000000000, now()), ('${id(62)}', '${id(50)}', '${id(12)}', NULL, now())`);
  await sql(`INSERT INTO "Grant" (id, "projectId", "customerId", "featureId", "usageLimit", "effectiveAt", "updatedAt")
    VALUES ('${id(71)}', '${id(1)}', '${id(40)}', '${id(11)}', 123456789, now(), now())`);

  expect((await applyMigrations(database)).applied).toEqual(migrationNames.slice(before));
  const limits = async (rows: Promise<{ id: string; usageLimit: number | null }[]>) =>
    (await rows).sort((a, b) => a.id.localeCompare(b.id)).map((row) => row.usageLimit);
  expect(await limits(database.prisma.planEntitlement.findMany())).toEqual([2147483647, 0, null]);
  expect(await limits(database.prisma.subscriptionOverride.findMany())).toEqual([2000000000, null]);
  expect(await limits(database.prisma.grant.findMany())).toEqual([123456789]);
  const types = await database.prisma.$queryRawUnsafe<{ table_name: string; data_type: string }[]>(
    `SELECT table_name, data_type FROM information_schema.columns WHERE column_name = 'usageLimit' ORDER BY table_name`,
  );
  expect(types).toEqual(
    ["Grant", "PlanEntitlement", "SubscriptionOverride"].map((table_name) => ({ table_name, data_type: "double precision" })),
  );
}

describe("migration drift", () => {
  it("schema.prisma and prisma/migrations agree (else: npm run migrate:create -- <name>)", async () => {
    const sql = await diffSchemaAgainstMigrations();
    expect(isEmptyMigration(sql), `schema.prisma has changes no migration holds:\n${sql}`).toBe(true);
  });

  it("notices a schema change that no migration holds (positive control)", async () => {
    const changed = `${readSchema()}\nmodel DriftProbe {\n  id String @id\n}\n`;
    const sql = await diffSchemaAgainstMigrations(changed);
    expect(isEmptyMigration(sql)).toBe(false);
    expect(sql).toMatch(/CREATE TABLE "DriftProbe"/);
  });
});

describe("applying migrations on the embedded database", () => {
  it("creates every table, records every migration, applies nothing twice, and serves the client", async () => {
    const database = openDatabase({ kind: "pglite", instance: new PGlite() });
    try {
      expect(await pendingMigrations(database.adapterFactory)).toEqual(migrationNames);
      expect((await applyMigrations(database)).applied).toEqual(migrationNames);
      expect((await applyMigrations(database)).applied).toEqual([]);
      expect(await pendingMigrations(database.adapterFactory)).toEqual([]);
      const project = await database.prisma.project.create({ data: { name: "migrated" } });
      expect(await database.prisma.project.findUnique({ where: { id: project.id } })).toMatchObject({ name: "migrated" });
    } finally {
      await database.close();
    }
  });

  it("converts integer limits to doubles without losing any", async () => {
    const database = openDatabase({ kind: "pglite", instance: new PGlite() });
    try {
      await limitsSurviveTheirConversion(database);
    } finally {
      await database.close();
    }
  });
});

describe("applying migrations on PostgreSQL", () => {
  let temporary: Awaited<ReturnType<typeof createTemporaryDatabase>>;
  beforeAll(async () => {
    temporary = await createTemporaryDatabase("entitlements_migrate");
  });
  afterAll(() => temporary.drop());

  // Through the operator's command, in its own process, as it is run for real.
  const deploy = () =>
    execFileSync("npm", ["run", "--silent", "migrate:deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: temporary.url },
      encoding: "utf8",
    }).trim();

  it("npm run migrate:deploy applies every migration to a fresh database once", async () => {
    const database = openDatabase({ kind: "postgres", url: temporary.url });
    try {
      expect(await pendingMigrations(database.adapterFactory)).toEqual(migrationNames);
      expect(deploy()).toBe(`applied: ${migrationNames.join(", ")}`);
      expect(deploy()).toBe("the database is up to date");
      expect(await pendingMigrations(database.adapterFactory)).toEqual([]);
      expect(await database.prisma.customer.count()).toBe(0);
    } finally {
      await database.close();
    }
  });

  it("converts integer limits to doubles without losing any", async () => {
    const own = await createTemporaryDatabase("entitlements_limits");
    const database = openDatabase({ kind: "postgres", url: own.url });
    try {
      await limitsSurviveTheirConversion(database);
    } finally {
      await database.close();
      await own.drop();
    }
  });
});

describe("the usage aggregates' migration on a database that already holds usage records", () => {
  const AGGREGATES = migrationNames.find((name) => name.endsWith("_usage_aggregates"));
  const before = (list = readMigrations()) => ({
    ...list,
    migrationDirectories: list.migrationDirectories.filter((entry) => entry.path < String(AGGREGATES)),
  });
  const aggregateRows = (database: ReturnType<typeof openDatabase>) =>
    database.prisma.$queryRaw<unknown[]>`
      SELECT "customerId", "featureId", "width", "bucketStart", SUM("total") AS total FROM "UsageAggregate"
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;

  /** Records from before the migration, across years, months and minutes, negative ones too. */
  async function recordsBeforeTheMigration(database: ReturnType<typeof openDatabase>) {
    const project = await database.prisma.project.create({ data: { name: "before aggregates" } });
    const customers = await Promise.all(
      ["a", "b"].map((externalId) => database.prisma.customer.create({ data: { projectId: project.id, externalId } })),
    );
    // In SQL: today's client would write columns (alertThresholds) that schema did not have yet.
    const [feature] = await database.prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO "Feature" ("id", "projectId", "key", "name", "type", "updatedAt")
      VALUES (gen_random_uuid(), ${project.id}::uuid, 'calls', 'calls', 'METERED', now()) RETURNING "id"::text AS "id"`;
    if (!feature) throw new Error("no feature made");
    const instants = ["2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00Z", "2026-01-15T10:30:30.500Z", "2026-02-28T23:00:00Z"];
    await database.prisma.usageRecord.createMany({
      data: customers.flatMap((customer, c) =>
        instants.flatMap((instant, i) =>
          [1, 2, 3].map((n) => ({
            projectId: project.id,
            customerId: customer.id,
            featureId: feature.id,
            quantity: (n * (i + 1) * (c + 1)) / 4 - 1,
            timestamp: new Date(Date.parse(instant) + n * 1000),
          })),
        ),
      ),
    });
    return { customers, feature };
  }

  async function backfills(database: ReturnType<typeof openDatabase>) {
    expect(AGGREGATES).toBeDefined();
    await applyMigrations(database, before());
    const { customers, feature } = await recordsBeforeTheMigration(database);
    // The aggregates' migration, and whatever came after it.
    expect((await applyMigrations(database)).applied).toEqual(migrationNames.filter((name) => name >= String(AGGREGATES)));
    const periods = [
      [null, null],
      ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"],
      ["2025-12-31T23:59:30Z", "2026-01-15T10:30:32Z"],
      ["2026-01-15T10:30:31.500Z", "2027-01-01T00:00:00Z"],
    ].map(([start, end]) => ({ start: start ? new Date(start) : null, end: end ? new Date(end) : null }));
    const keys = customers.flatMap((customer) => periods.map((period) => ({ customerId: customer.id, featureId: feature.id, ...period })));
    const plain = await Promise.all(
      keys.map(async (key) => {
        const records = await database.prisma.usageRecord.findMany({
          where: {
            customerId: key.customerId,
            featureId: key.featureId,
            timestamp: { ...(key.start ? { gte: key.start } : {}), ...(key.end ? { lt: key.end } : {}) },
          },
        });
        return records.reduce((sum, record) => sum + record.quantity, 0);
      }),
    );
    expect(plain.some((sum) => sum !== 0)).toBe(true);
    expect(await sumUsage(database.prisma, keys)).toEqual(plain);
    // The backfilled rows are those a rebuild from the records makes.
    const backfilled = await aggregateRows(database);
    await rebuildUsageAggregates({ query: (sql) => database.prisma.$executeRawUnsafe(sql) });
    expect(backfilled.length).toBeGreaterThan(0);
    expect(await aggregateRows(database)).toEqual(backfilled);
  }

  it("on the embedded database, sums the existing records into the aggregates", async () => {
    const database = openDatabase({ kind: "pglite", instance: new PGlite() });
    try {
      await backfills(database);
    } finally {
      await database.close();
    }
  });

  it("on PostgreSQL, sums the existing records into the aggregates", async () => {
    const temporary = await createTemporaryDatabase("entitlements_backfill");
    const database = openDatabase({ kind: "postgres", url: temporary.url });
    try {
      await backfills(database);
    } finally {
      await database.close();
      await temporary.drop();
    }
  });
});
