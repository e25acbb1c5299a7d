// Writing usage records, and the aggregates that make a period's usage cost the same for ten
// records or ten million (src/domain/usage-buckets.ts says how a period is read from them).
//
// UsageAggregate holds, per (customer, feature, width, UTC bucket start), running sums of
// the records' quantities at every width of BUCKET_WIDTHS, spread over shard rows:
// - The records and their sums are written by ONE statement: the insert of the raw rows
//   feeds the upsert of the sums (INSERT … ON CONFLICT DO UPDATE SET total = total + …), so
//   a record and its sums are never apart, whatever the caller's transaction does.
// - Only rows actually inserted feed the sums: a record whose idempotency key already exists
//   in the project is skipped by ON CONFLICT DO NOTHING and counted nowhere.
// - Every statement writes to one shard of each bucket (a round-robin per process, summed
//   over on read), so that concurrent writers for one customer update different rows
//   instead of queueing behind one hot row.
// - Locks are taken in one global order: the records by (project, idempotency key), then
//   the sums by their key; a statement takes record locks before sum locks, so two
//   statements never wait for each other in a cycle (one call per transaction keeps that).
// - Late events, negative quantities and any instant are plain additions to their buckets.
import { randomBytes } from "node:crypto";
import { BUCKET_WIDTHS } from "../domain/usage-buckets.ts";
import { Prisma, type PrismaClient, type UsageRecord } from "../generated/prisma/client.ts";
import type { RawSql } from "./raw-transaction.ts";

export interface NewUsageRecord {
  projectId: string;
  customerId: string;
  featureId: string;
  quantity: number;
  timestamp: Date;
  idempotencyKey: string | null;
  consumeReason?: string | null;
}

/** Records one statement may insert. */
const MAX_RECORDS_PER_INSERT = 1000;

/** Rows each bucket is spread over. Reads sum whatever shards exist, so this may change freely. */
const AGGREGATE_SHARDS = 8;

let nextShard = 0;

/**
 * The start of `timestamp`'s bucket of `width` in UTC, whatever the session's time zone:
 * the alignment the reads assume (src/domain/usage-buckets.ts).
 */
const bucketStartSql = (timestamp: string, width: string) =>
  `(date_trunc(lower(${width}::text), ${timestamp} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;

/** Every width of the UsageBucketWidth enum, as rows (w.width). */
const EVERY_WIDTH = `unnest(enum_range(NULL::"UsageBucketWidth")) AS w(width)`;

const AGGREGATE_KEY = `"customerId", "featureId", "width", "bucketStart", "shard"`;

/** A UUID version 7 (time-ordered, like the ids Prisma gives other rows): index inserts stay local. */
function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The one SQL statement that inserts the records (up to 1,000) and adds them to the
 * aggregates; a record whose idempotencyKey already exists in the project is skipped (not
 * inserted, not counted). It answers the rows actually inserted; `ids` are the ids it gives
 * the records, in input order. A statement of its own so that the benchmark can time it
 * alone, through the database driver, as the ceiling of what the API can ingest.
 */
export function usageInsertStatement(records: readonly NewUsageRecord[]): { statement: Prisma.Sql; ids: string[] } {
  if (records.length === 0 || records.length > MAX_RECORDS_PER_INSERT) {
    throw new RangeError(`a usage insert takes 1 to ${MAX_RECORDS_PER_INSERT} records, not ${records.length}`);
  }
  const ids = records.map(() => uuidv7());
  const shard = nextShard++ % AGGREGATE_SHARDS;
  const statement = Prisma.sql`
    WITH inserted AS (
      INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp", "idempotencyKey", "consumeReason")
      SELECT r.id, r.project_id, r.customer_id, r.feature_id, r.quantity, r.at, r.idempotency_key, r.consume_reason::"ConsumeReason"
      FROM unnest(
        ${ids}::uuid[],
        ${records.map((record) => record.projectId)}::uuid[],
        ${records.map((record) => record.customerId)}::uuid[],
        ${records.map((record) => record.featureId)}::uuid[],
        ${records.map((record) => record.quantity)}::float8[],
        ${records.map((record) => record.timestamp)}::timestamptz[],
        ${records.map((record) => record.idempotencyKey)}::text[],
        ${records.map((record) => record.consumeReason ?? null)}::text[]
      ) AS r(id, project_id, customer_id, feature_id, quantity, at, idempotency_key, consume_reason)
      ORDER BY r.project_id, r.idempotency_key
      ON CONFLICT ("projectId", "idempotencyKey") DO NOTHING
      RETURNING *
    ), summed AS (
      INSERT INTO "UsageAggregate" (${Prisma.raw(AGGREGATE_KEY)}, "total")
      SELECT i."customerId", i."featureId", w.width, ${Prisma.raw(bucketStartSql(`i."timestamp"`, "w.width"))}, ${shard}::smallint, SUM(i."quantity")
      FROM inserted i CROSS JOIN ${Prisma.raw(EVERY_WIDTH)}
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
      ON CONFLICT (${Prisma.raw(AGGREGATE_KEY)}) DO UPDATE SET "total" = "UsageAggregate"."total" + excluded."total"
    )
    SELECT * FROM inserted`;
  return { statement, ids };
}

/**
 * Inserts the records in one atomic SQL statement (usageInsertStatement). Returns the rows
 * actually inserted, in input order. The caller removes keys repeated within `records`
 * beforehand.
 */
export async function insertUsageRecords(client: RawSql, records: readonly NewUsageRecord[]): Promise<UsageRecord[]> {
  if (records.length === 0) return [];
  const { statement, ids } = usageInsertStatement(records);
  const inserted = await client.$queryRaw<UsageRecord[]>(statement);
  const byId = new Map(inserted.map((row) => [row.id, row]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * The statement that rebuilds every aggregate row from UsageRecord, in one transaction: sums
 * by minute from the raw records, each wider width from the one below it, inserted in key
 * order (the primary key's index grows at its end instead of everywhere at once). It holds
 * off usage writes while it runs (SHARE lock), so no record is missed or counted twice;
 * reads go on with the sums as they were until it commits. It refuses to run once records have
 * been purged for retention (purgeUsageRecords): only the aggregates hold those records' sums.
 */
function rebuildSql(): string {
  const levels = BUCKET_WIDTHS.map((width, index) =>
    index === 0
      ? `"${width}" AS (SELECT "customerId" AS c, "featureId" AS f, date_trunc('${width.toLowerCase()}', "timestamp" AT TIME ZONE 'UTC') AS b, SUM("quantity") AS t FROM "UsageRecord" GROUP BY 1, 2, 3)`
      : `"${width}" AS (SELECT c, f, date_trunc('${width.toLowerCase()}', b) AS b, SUM(t) AS t FROM "${BUCKET_WIDTHS[index - 1]}" GROUP BY 1, 2, 3)`,
  );
  const rows = BUCKET_WIDTHS.map((width) => `SELECT c, f, '${width}'::"UsageBucketWidth", b AT TIME ZONE 'UTC', 0, t FROM "${width}"`);
  return `DO $rebuild$
BEGIN
  LOCK TABLE "UsageRecord" IN SHARE MODE;
  IF EXISTS (SELECT FROM "SchedulerCursor" WHERE "name" = '${USAGE_RETENTION_CURSOR}') THEN
    RAISE EXCEPTION 'usage records were purged for retention: their sums exist only in the aggregates, which a rebuild would lose';
  END IF;
  DELETE FROM "UsageAggregate";
  INSERT INTO "UsageAggregate" (${AGGREGATE_KEY}, "total")
  WITH ${levels.join(",\n  ")}
  ${rows.join("\n  UNION ALL ")}
  ORDER BY 1, 2, 3, 4;
END
$rebuild$`;
}

/**
 * Rebuilds every aggregate row from UsageRecord: after raw records were written by other
 * means than insertUsageRecords (the benchmark's bulk INSERTs). One statement, so any runner
 * of SQL will do: a pg client or pool, PGlite, or Prisma's $executeRawUnsafe.
 */
export async function rebuildUsageAggregates(runner: { query(sql: string, params?: unknown[]): Promise<unknown> }): Promise<void> {
  await runner.query(rebuildSql());
}

/**
 * The SchedulerCursor row whose `processedUntil` is the retention horizon: raw records before
 * it may have been deleted, so only the aggregates know their sums (sumUsage reads it).
 */
export const USAGE_RETENTION_CURSOR = "usage-retention";

/**
 * Deletes up to `limit` raw usage records with a timestamp before `before`, keeping their
 * sums in the aggregates, and moves the retention horizon to `before` (never back) in the
 * same statement, so a reader sees either both or neither. Returns how many were deleted.
 */
export async function purgeUsageRecords(client: PrismaClient, before: Date, limit: number): Promise<number> {
  const [row] = await client.$queryRaw<{ deleted: number }[]>`
    WITH horizon AS (
      INSERT INTO "SchedulerCursor" ("name", "processedUntil") VALUES (${USAGE_RETENTION_CURSOR}, ${before})
      ON CONFLICT ("name") DO UPDATE SET "processedUntil" = GREATEST("SchedulerCursor"."processedUntil", excluded."processedUntil")
    ), deleted AS (
      DELETE FROM "UsageRecord" WHERE "id" IN (SELECT "id" FROM "UsageRecord" WHERE "timestamp" < ${before} LIMIT ${limit})
      RETURNING 1
    )
    SELECT count(*)::int AS deleted FROM deleted`;
  return row?.deleted ?? 0;
}
