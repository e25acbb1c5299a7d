// Usage read from the aggregates (src/db/usage-records.ts, src/domain/usage-buckets.ts) is the
// plain SUM over the usage records, whatever was written — late events, negative and
// fractional quantities, idempotent repeats, concurrent writers for one customer — and for
// any period; and a check, a usage read or a recordUsage costs the same for a customer with
// 10 records in the period as for one with 100,000. Quantities are multiples of 0.25, so
// every order of summation is exact and the sums must be equal, not close.
import type { SqlQuery } from "@prisma/driver-adapter-utils";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { insertUsageRecords, rebuildUsageAggregates, type NewUsageRecord } from "../../src/db/usage-records.ts";
import { BUCKET_WIDTHS, bucketFloor, splitPeriod } from "../../src/domain/usage-buckets.ts";
import { FEW_RECORDS, sumUsage, type UsageKey } from "../../src/loaders/usage.ts";
import { createTestApp, databaseKind, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const DAY = 86_400_000;
const MINUTE = 60_000;

let t: TestApp;
let features: { calls: string; seats: string };
let planId: string;
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "calls", type: "METERED" });
  await s.feature({ key: "seats", type: "METERED" });
  planId = (
    await s.plan({ key: "metered", entitlements: { calls: { usageLimit: 1_000_000 }, seats: { usageLimit: 1_000, resetPeriod: "NEVER" } } })
  ).id;
  const rows = await t.database.prisma.feature.findMany({ where: { projectId: t.projectId } });
  const idOf = (key: string) => rows.find((row) => row.key === key)!.id;
  features = { calls: idOf("calls"), seats: idOf("seats") };
});
afterAll(() => t.close());

let customers = 0;
const newCustomer = () => t.database.prisma.customer.create({ data: { projectId: t.projectId, externalId: `agg-${++customers}` } });

/** The plain SUM over the records, the way usage was read before the aggregates. */
async function plainSum(key: UsageKey): Promise<number> {
  const [row] = await t.database.prisma.$queryRaw<{ used: number }[]>`
    SELECT COALESCE(SUM("quantity"), 0)::float8 AS used FROM "UsageRecord"
    WHERE "customerId" = ${key.customerId}::uuid AND "featureId" = ${key.featureId}::uuid
      AND "timestamp" >= COALESCE(${key.start}::timestamptz, '-infinity') AND "timestamp" < COALESCE(${key.end}::timestamptz, 'infinity')`;
  return row!.used;
}

const quantity = fc.integer({ min: -400, max: 400 }).map((n) => n / 4);
const FROM = Date.parse("2026-01-01T00:00:00Z");
const TO = Date.parse("2026-07-01T00:00:00Z");
/** Instants over six months, often on a bucket edge or a millisecond beside one. */
const instant = (from = FROM, to = TO) =>
  fc.oneof(
    fc.integer({ min: from, max: to }),
    fc
      .tuple(fc.integer({ min: from, max: to }), fc.constantFrom(...BUCKET_WIDTHS), fc.constantFrom(-1, 0, 1))
      .map(([at, width, offset]) => Math.min(to, Math.max(from, bucketFloor(width, at) + offset))),
  );
/** A pool of keys small enough that repeats, and repeats in concurrent calls, are common. */
const idempotencyKey = fc.option(
  fc.integer({ min: 0, max: 7 }).map((n) => `key-${n}`),
  { nil: null, freq: 2 },
);
const record = fc.record({ quantity, at: instant(), key: idempotencyKey });
type RecordSpec = { quantity: number; at: number; key: string | null };
const operation = fc.oneof(
  fc.record({ kind: fc.constant("batch" as const), calls: fc.array(fc.array(record, { minLength: 1, maxLength: 30 }), { maxLength: 1 }) }),
  fc.record({
    kind: fc.constant("concurrent" as const),
    calls: fc.array(fc.array(record, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 8 }),
  }),
);
/** Periods with any millisecond boundaries, on and beside bucket edges, and open ends. */
const period = fc
  .tuple(fc.option(instant(FROM - 40 * DAY, TO + 40 * DAY), { freq: 4 }), fc.option(instant(FROM - 40 * DAY, TO + 40 * DAY), { freq: 4 }))
  .map(([a, b]): [number | null, number | null] => (a !== null && b !== null && b < a ? [b, a] : [a, b]))
  .map(([start, end]) => ({ start: start === null ? null : new Date(start), end: end === null ? null : new Date(end) }));

/** One call's records, without keys repeated inside it (insertUsageRecords' caller removes those). */
function recordsOf(specs: readonly RecordSpec[], customerId: string, featureId: string): NewUsageRecord[] {
  const seen = new Set<string>();
  return specs
    .filter((spec) => spec.key === null || (!seen.has(spec.key) && seen.add(spec.key)))
    .map((spec) => ({
      projectId: t.projectId,
      customerId,
      featureId,
      quantity: spec.quantity,
      timestamp: new Date(spec.at),
      idempotencyKey: spec.key,
    }));
}

describe("usage read from the aggregates equals the plain SUM over the records", () => {
  it("after random sequences of batches and concurrent calls, for random periods", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 1, maxLength: 6 }),
        fc.array(period, { minLength: 1, maxLength: 10 }),
        async (operations, periods) => {
          const customer = await newCustomer();
          const returned: { id: string; idempotencyKey: string | null }[] = [];
          for (const { calls } of operations) {
            const results = await Promise.all(
              calls.map((specs) => insertUsageRecords(t.database.prisma, recordsOf(specs, customer.id, features.calls))),
            );
            returned.push(...results.flat());
          }
          // Each key counted once, whichever call won it; every returned row is one stored.
          const stored = await t.database.prisma.usageRecord.findMany({
            where: { customerId: customer.id },
            select: { id: true, idempotencyKey: true },
          });
          const keys = returned.flatMap((row) => (row.idempotencyKey ? [row.idempotencyKey] : []));
          expect(new Set(keys).size).toBe(keys.length);
          expect(returned.map((row) => row.id).sort()).toEqual(stored.map((row) => row.id).sort());
          const usageKeys = periods.map((span) => ({ customerId: customer.id, featureId: features.calls, ...span }));
          const plain = await Promise.all(usageKeys.map(plainSum));
          // From the aggregates alone, and as the API reads (few records summed from themselves).
          expect(await sumUsage(t.database.prisma, usageKeys, { fewRecords: 0 })).toEqual(plain);
          expect(await sumUsage(t.database.prisma, usageKeys)).toEqual(plain);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("answers inserted rows in input order, as Prisma's UsageRecord, and skips a key already stored", async () => {
    const customer = await newCustomer();
    const specs = [
      { quantity: 2.5, at: Date.parse("2026-03-01T00:00:00Z"), key: "first" },
      { quantity: -1, at: Date.parse("2026-02-28T23:59:59.999Z"), key: null },
      { quantity: 4, at: Date.parse("2026-01-15T12:00:00.5Z"), key: "second" },
    ];
    const inserted = await insertUsageRecords(t.database.prisma, recordsOf(specs, customer.id, features.calls));
    expect(inserted.map((row) => [row.quantity, row.timestamp, row.idempotencyKey])).toEqual(
      specs.map((spec) => [spec.quantity, new Date(spec.at), spec.key]),
    );
    expect(inserted[0]).toEqual(await t.database.prisma.usageRecord.findUniqueOrThrow({ where: { id: inserted[0]!.id } }));
    const again = await insertUsageRecords(
      t.database.prisma,
      recordsOf(
        [
          { quantity: 100, at: specs[0]!.at, key: "second" },
          { quantity: 8, at: specs[0]!.at, key: "third" },
        ],
        customer.id,
        features.calls,
      ),
    );
    expect(again.map((row) => row.idempotencyKey)).toEqual(["third"]);
    const all = { customerId: customer.id, featureId: features.calls, start: null, end: null };
    expect(await sumUsage(t.database.prisma, [all])).toEqual([13.5]);
    expect(await sumUsage(t.database.prisma, [all], { fewRecords: 0 })).toEqual([13.5]);
  });

  it("through the API: usage.used, at any instant, after late, negative, repeated and concurrent recordUsage calls", async () => {
    const now = Date.now();
    const anchorFrom = now - 200 * DAY;
    const apiRecord = fc.record({
      featureKey: fc.constantFrom("calls", "seats"),
      quantity,
      // Late events anywhere since the anchor, or none (now).
      at: fc.option(instant(anchorFrom, now - MINUTE), { freq: 4 }),
      key: idempotencyKey,
    });
    const s = seed(t);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: anchorFrom, max: now - 100 * DAY }),
        fc.array(fc.array(apiRecord, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
        async (anchor, rounds, instants) => {
          const externalId = `api-${++customers}`;
          await s.customer(externalId);
          const startsAt = new Date(anchor).toISOString();
          await s.subscription(externalId, { planId, startsAt, billingAnchor: startsAt });
          const customerId = (await t.database.prisma.customer.findFirstOrThrow({ where: { projectId: t.projectId, externalId } })).id;
          for (const [round, calls] of rounds.entries()) {
            // Keys are per customer here, so a repeat is a retry (the same customer), in any feature of the round.
            const results = await Promise.all(
              calls.map((call) =>
                t.gql(`mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`, {
                  input: {
                    customer: { externalId },
                    featureKey: call.featureKey,
                    quantity: call.quantity,
                    ...(call.at === null ? {} : { timestamp: new Date(call.at).toISOString() }),
                    ...(call.key === null ? {} : { idempotencyKey: `${externalId}-${call.featureKey}-${round % 2}-${call.key}` }),
                  },
                }),
              ),
            );
            for (const result of results) ok(result);
          }
          // Time travel: the periods of instants from the anchor to now.
          for (const fraction of [...instants, 1_000_000]) {
            const at = new Date(anchor + ((now - anchor) * fraction) / 1_000_000).toISOString();
            const data = ok(
              await t.gql(
                `query ($id: String!, $at: DateTime!) { customer(externalId: $id) {
                  calls: entitlement(featureKey: "calls", at: $at) { usage { used periodStart periodEnd } }
                  seats: entitlement(featureKey: "seats", at: $at) { usage { used periodStart periodEnd } }
                } }`,
                { id: externalId, at },
              ),
            );
            for (const featureKey of ["calls", "seats"] as const) {
              const usage = data.customer[featureKey].usage;
              const key = {
                customerId,
                featureId: features[featureKey],
                start: usage.periodStart ? new Date(usage.periodStart) : null,
                end: usage.periodEnd ? new Date(usage.periodEnd) : null,
              };
              expect(usage.used, `${featureKey} at ${at}`).toBe(await plainSum(key));
            }
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe("many concurrent writers for one customer and feature", () => {
  it("all complete, without deadlock or serialization error, and the sums stay exact", async () => {
    const customer = await newCustomer();
    const base = Date.parse("2026-04-30T23:58:30Z");
    // The same buckets (a minute, an hour, a day, a month and a year boundary nearby) in every
    // batch, each in an order of its own; keys shared between batches, also in orders of their own.
    const shuffled = <T>(items: T[], seed: number) => {
      const order = [...items];
      let state = seed + 1;
      for (let i = order.length - 1; i > 0; i--) {
        state = (state * 48_271) % 2_147_483_647;
        const j = state % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return order;
    };
    const batch = (n: number) =>
      shuffled(
        Array.from({ length: 100 }, (_, i) => ({
          projectId: t.projectId,
          customerId: customer.id,
          featureId: features.calls,
          quantity: ((i % 9) - 4) / 4 + 1,
          timestamp: new Date(base + i * 1_850),
          idempotencyKey: i % 2 === 0 ? `shared-${i}` : null,
        })),
        n,
      );
    // On PostgreSQL, more connections than the app's pool, so that many statements overlap.
    const writers = databaseKind === "postgres" ? openDatabase({ kind: "postgres", url: inject("postgresUrl"), poolSize: 16 }) : t.database;
    // And batches without keys, each over a hundred minutes: many sums rows per statement.
    const spread = (n: number) =>
      batch(n).map((record, i) => ({ ...record, timestamp: new Date(base + i * 61_000), idempotencyKey: null }));
    const batches = Array.from({ length: 32 }, (_, n) => insertUsageRecords(writers.prisma, n % 2 ? batch(n) : spread(n)));
    const externalId = (await t.database.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).externalId;
    const singles = Array.from({ length: 32 }, (_, n) =>
      t.gql(`mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`, {
        input: {
          customer: { externalId },
          featureKey: "calls",
          quantity: n / 4,
          timestamp: new Date(base + n * 1_000).toISOString(),
          ...(n % 4 === 0 ? { idempotencyKey: `single-${n % 16}` } : {}),
        },
      }),
    );
    const [inserted, answers] = await Promise.all([Promise.all(batches), Promise.all(singles)]).finally(() =>
      writers === t.database ? undefined : writers.close(),
    );
    for (const answer of answers) ok(answer);
    // 50 keyed records once, 50 unkeyed ones per keyed batch, 100 per spread one; 32 singles, 8 keyed with 4 keys.
    expect(inserted.flat().length).toBe(50 + 16 * 50 + 16 * 100);
    expect(await t.database.prisma.usageRecord.count({ where: { customerId: customer.id } })).toBe(50 + 16 * 50 + 16 * 100 + 28);
    const periods = [
      [null, null],
      ["2026-04-30T23:59:00Z", "2026-05-01T00:01:00Z"],
      ["2026-04-30T23:58:45.500Z", "2026-05-01T00:00:00.001Z"],
      ["2026-05-01T00:00:00Z", null],
      ["2026-04-30T23:59:59.999Z", "2026-05-01T01:30:00.001Z"],
    ].map(([start, end]) => ({
      customerId: customer.id,
      featureId: features.calls,
      start: start ? new Date(start) : null,
      end: end ? new Date(end) : null,
    }));
    const plain = await Promise.all(periods.map(plainSum));
    expect(await sumUsage(t.database.prisma, periods)).toEqual(plain);
    expect(await sumUsage(t.database.prisma, periods, { fewRecords: 0 })).toEqual(plain);
  });
});

describe("what a usage read costs does not grow with the records in the period", () => {
  const counter = new SqlCounter();
  let cold: TestApp;
  const HEAVY_RECORDS = 100_000;
  const ids: Record<"light" | "heavy", string> = { light: "", heavy: "" };
  let featureIdCold = "";
  let period: { start: Date; end: Date };

  beforeAll(async () => {
    // Without the cache, so that every read reaches the database.
    cold = await createTestApp({ sqlCounter: counter, cacheSettings: { enabled: false } });
    const s = seed(cold);
    await s.feature({ key: "calls", type: "METERED" });
    const plan = await s.plan({ key: "metered", entitlements: { calls: { usageLimit: 1e9 } } });
    // A billing anchor off every bucket edge, so both edges of the period are partial minutes.
    const anchor = new Date(Date.now() - 50 * DAY - 12_345).toISOString();
    for (const name of ["light", "heavy"] as const) {
      await s.customer(name);
      await s.subscription(name, { planId: plan.id, startsAt: anchor, billingAnchor: anchor });
      ids[name] = (await cold.database.prisma.customer.findFirstOrThrow({ where: { projectId: cold.projectId, externalId: name } })).id;
    }
    featureIdCold = (await cold.database.prisma.feature.findFirstOrThrow({ where: { projectId: cold.projectId, key: "calls" } })).id;
    const usage = ok(
      await cold.gql(`{ customer(externalId: "heavy") { entitlement(featureKey: "calls") { usage { periodStart periodEnd } } } }`),
    ).customer.entitlement.usage;
    period = { start: new Date(usage.periodStart), end: new Date(usage.periodEnd) };
    const span = Date.now() - MINUTE - period.start.getTime();
    for (let i = 0; i < 10; i++) {
      ok(
        await cold.gql(`mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`, {
          input: {
            customer: { externalId: "light" },
            featureKey: "calls",
            timestamp: new Date(period.start.getTime() + (span * i) / 10).toISOString(),
          },
        }),
      );
    }
    // The heavy customer's records evenly over the period so far, its first edge minute included,
    // written as a bulk load is (plain SQL), then the aggregates rebuilt.
    await cold.database.prisma.$executeRaw`
      INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp")
      SELECT gen_random_uuid(), ${cold.projectId}::uuid, ${ids.heavy}::uuid, ${featureIdCold}::uuid, 1,
             ${period.start}::timestamptz + (g * ${span / HEAVY_RECORDS}::float8) * interval '1 millisecond'
      FROM generate_series(0, ${HEAVY_RECORDS - 1}::int) g`;
    await rebuildUsageAggregates({ query: (sql) => cold.database.prisma.$executeRawUnsafe(sql) });
  }, 240_000);
  afterAll(() => cold?.close());

  // Rows read (sequential and index scans) and written, per usage table, by this backend.
  const USAGE_ROWS = `
    SELECT relname, (seq_tup_read + idx_tup_fetch)::int AS read, (n_tup_ins + n_tup_upd)::int AS written
    FROM pg_stat_xact_user_tables WHERE relname IN ('UsageRecord', 'UsageAggregate')`;
  type Counts = Record<"rawRead" | "aggregatesRead" | "rawWritten" | "aggregatesWritten", number>;
  const NOTHING: Counts = { rawRead: 0, aggregatesRead: 0, rawWritten: 0, aggregatesWritten: 0 };
  const countsOf = (rows: unknown[][]): Counts => {
    const table = (name: string) => rows.find((row) => row[0] === name) ?? [name, 0, 0];
    const [, rawRead, rawWritten] = table("UsageRecord").map(Number);
    const [, aggregatesRead, aggregatesWritten] = table("UsageAggregate").map(Number);
    return { rawRead: rawRead!, aggregatesRead: aggregatesRead!, rawWritten: rawWritten!, aggregatesWritten: aggregatesWritten! };
  };
  // A backend's counters not yet reported may hold earlier transactions' counts too: what
  // counts is the difference inside one transaction.
  const difference = (before: Counts, after: Counts) =>
    Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - before[name as keyof Counts]])) as Counts;

  /** What `statements` read of the usage tables, sent again inside a transaction rolled back afterwards. */
  async function countsOfReads(statements: readonly SqlQuery[]): Promise<Counts> {
    const adapter = await cold.database.adapterFactory.connect();
    const transaction = await adapter.startTransaction();
    const counts = async () => countsOf((await transaction.queryRaw({ sql: USAGE_ROWS, args: [], argTypes: [] })).rows);
    try {
      const before = await counts();
      for (const statement of statements) await transaction.queryRaw(statement);
      return difference(before, await counts());
    } finally {
      await transaction.rollback();
      await adapter.dispose();
    }
  }

  class RolledBack extends Error {}

  /** What inserting a record for `customerId` now reads and writes of the usage tables, rolled back afterwards. */
  async function countsOfInsert(customerId: string): Promise<Counts> {
    let counted = NOTHING;
    const record = {
      projectId: cold.projectId,
      customerId,
      featureId: featureIdCold,
      quantity: 1,
      timestamp: new Date(),
      idempotencyKey: null,
    };
    await cold.database.prisma
      .$transaction(async (tx) => {
        const counts = async () =>
          countsOf((await tx.$queryRawUnsafe<{ relname: string; read: number; written: number }[]>(USAGE_ROWS)).map(Object.values));
        const before = await counts();
        await insertUsageRecords(tx, [record]);
        counted = difference(before, await counts());
        throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
    return counted;
  }

  const REQUESTS = {
    check: `{ checkEntitlement(customer: { externalId: "$name" }, featureKey: "calls", quantity: 1) { allowed reason } }`,
    usage: `{ customer(externalId: "$name") { entitlement(featureKey: "calls") { usage { used remaining } } } }`,
    recordUsage: `mutation { recordUsage(input: { customer: { externalId: "$name" }, featureKey: "calls", quantity: 1 }) { id } }`,
  };

  /** A request's SQL statements, what its reads (sent again) read, and what its write reads and writes. */
  async function cost(request: keyof typeof REQUESTS, name: "light" | "heavy") {
    counter.reset();
    ok(await cold.gql(REQUESTS[request].replace("$name", name)));
    const statements = counter.count;
    const reads = counter.queries.filter((query) => !/\b(INSERT|UPDATE|DELETE)\b|pg_advisory/i.test(query.sql));
    return {
      statements,
      sums: reads.filter((query) => query.sql.includes("UsageAggregate")).length,
      read: await countsOfReads(reads),
      write: request === "recordUsage" ? await countsOfInsert(ids[name]) : NOTHING,
    };
  }

  /** The heavy customer's records in the raw (partial-minute) edges of its period. */
  async function edgeRecords() {
    const { raw } = splitPeriod(period.start.getTime(), period.end.getTime());
    let count = 0;
    for (const span of raw) {
      count += await cold.database.prisma.usageRecord.count({
        where: { customerId: ids.heavy, featureId: featureIdCold, timestamp: { gte: new Date(span.from), lt: new Date(span.to) } },
      });
    }
    return count;
  }

  it.each(Object.keys(REQUESTS) as (keyof typeof REQUESTS)[])(
    "%s: as many statements, and about as many rows, for 100,000 records as for 10",
    async (request) => {
      const light = await cost(request, "light");
      const heavy = await cost(request, "heavy");
      expect(heavy.statements).toBe(light.statements);
      expect(heavy.sums).toBeGreaterThan(0);
      const rowsRead = (side: typeof light) =>
        side.read.rawRead + side.read.aggregatesRead + side.write.rawRead + side.write.aggregatesRead;
      // A plain SUM would read every one of the heavy customer's records: 100,000 more rows.
      expect(rowsRead(heavy) - rowsRead(light), JSON.stringify({ light, heavy })).toBeLessThan(HEAVY_RECORDS / 100);
      // Raw records are read only by the probe for few records and in the period's partial edge minutes.
      expect(heavy.read.rawRead + heavy.write.rawRead).toBeLessThanOrEqual(heavy.sums * (FEW_RECORDS + (await edgeRecords())));
      // A write touches one record and one row per bucket width, however many came before it.
      const touched =
        request === "recordUsage" ? { rawWritten: 1, aggregatesWritten: BUCKET_WIDTHS.length } : { rawWritten: 0, aggregatesWritten: 0 };
      expect(light.write).toMatchObject(touched);
      expect(heavy.write).toMatchObject(touched);
    },
  );
});
