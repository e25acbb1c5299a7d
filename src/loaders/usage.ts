// Usage sums per (customer, feature, period): the one query that adds up usage, used by the
// per-request loader (through the cache) and inside consume's transaction. It reads the usage
// aggregates (src/db/usage-records.ts), so its cost does not grow with the records.
import DataLoader from "dataloader";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Entitlement } from "../domain/entitlements.ts";
import type { EntitlementCache, UsageKey } from "../cache/entitlement-cache.ts";
import { splitPeriod, type BucketWidth, type Span } from "../domain/usage-buckets.ts";
import { USAGE_RETENTION_CURSOR } from "../db/usage-records.ts";
import type { RawSql } from "../db/raw-transaction.ts";

export type { UsageKey };

/** The usage that counts against an entitlement: its customer, feature and current period. */
export const usageKeyOf = (customerId: string, entitlement: Entitlement): UsageKey => ({
  customerId,
  featureId: entitlement.feature.id,
  start: entitlement.period?.start ?? null,
  end: entitlement.period?.end ?? null,
});

const usageKeyString = (key: UsageKey) => `${key.customerId}|${key.featureId}|${key.start?.getTime() ?? ""}|${key.end?.getTime() ?? ""}`;

/** One piece of a key's period: a range of whole buckets of one width, or (width null) raw records. */
interface Piece {
  index: number;
  key: UsageKey;
  width: BucketWidth | null;
  span: Span;
}

function piecesOf(key: UsageKey, index: number): Piece[] {
  const { buckets, raw } = splitPeriod(key.start?.getTime() ?? -Infinity, key.end?.getTime() ?? Infinity);
  return [
    ...buckets.map((range) => ({ index, key, width: range.width, span: range })),
    ...raw.map((span) => ({ index, key, width: null, span })),
  ];
}

/** An instant as a parameter, in milliseconds since the epoch (lighter to send than dates); an open end as null. */
const msParameter = (ms: number) => (Number.isFinite(ms) ? ms : null);

/**
 * Periods holding fewer records than this are summed from the records themselves: one index
 * scan of at most this many rows costs less than a dozen bucket lookups, and most customers'
 * periods are like that. Beyond it, the aggregates answer and the probe's rows were read for
 * nothing, so it stays short (docs/performance.md, "What the database spends").
 */
export const FEW_RECORDS = 16;

/**
 * Sums of usage for `keys`, in their order, in one statement for any number of keys. Each
 * period is first probed for at most `fewRecords` of its records: fewer than that, and their
 * sum is the answer; otherwise the period is read as whole buckets of the usage aggregates
 * plus the raw records of its partial edge minutes (src/domain/usage-buckets.ts), each piece
 * an index range scan of its own. A period starting before the retention horizon
 * (purgeUsageRecords) always reads the aggregates: its oldest raw records may be gone.
 * Either way a bounded number of rows, however many records the period holds.
 * (`fewRecords` 0 always reads the aggregates: the tests use it.)
 */
export async function sumUsage(
  client: RawSql,
  keys: readonly UsageKey[],
  { fewRecords = FEW_RECORDS }: { fewRecords?: number } = {},
): Promise<number[]> {
  if (keys.length === 0) return [];
  const pieces = keys.flatMap(piecesOf);
  const sums = await client.$queryRaw<{ index: number; used: number }[]>`
    WITH keys AS (
      SELECT * FROM unnest(
        ${keys.map((_key, index) => index)}::int[],
        ${keys.map((key) => key.customerId)}::uuid[],
        ${keys.map((key) => key.featureId)}::uuid[],
        ${keys.map((key) => key.start)}::timestamptz[],
        ${keys.map((key) => key.end)}::timestamptz[]
      ) AS k(index, customer_id, feature_id, start_at, end_at)
    ), horizon AS (
      SELECT COALESCE(max("processedUntil"), '-infinity') AS before FROM "SchedulerCursor" WHERE "name" = ${USAGE_RETENTION_CURSOR}
    ), probe AS (
      -- few: every record of the period is among those probed. Not so for a period starting
      -- before the retention horizon, whose older records only the aggregates still count.
      SELECT k.index, r.records < ${fewRecords} AND COALESCE(k.start_at, '-infinity') >= horizon.before AS few, r.used
      FROM keys k CROSS JOIN horizon
      CROSS JOIN LATERAL (
        SELECT count(*) AS records, SUM(few."quantity") AS used FROM (
          SELECT u."quantity" FROM "UsageRecord" u
          WHERE u."customerId" = k.customer_id AND u."featureId" = k.feature_id
            AND u."timestamp" >= COALESCE(k.start_at, '-infinity') AND u."timestamp" < COALESCE(k.end_at, 'infinity')
          LIMIT ${fewRecords}
        ) few
      ) r
    ), pieces AS (
      SELECT p.index, k.customer_id, k.feature_id, p.width::"UsageBucketWidth" AS width,
             'epoch'::timestamptz + p.from_ms * interval '1 millisecond' AS from_at,
             'epoch'::timestamptz + p.to_ms * interval '1 millisecond' AS to_at
      FROM unnest(
        ${pieces.map((piece) => piece.index)}::int[],
        ${pieces.map((piece) => piece.width)}::text[],
        ${pieces.map((piece) => msParameter(piece.span.from))}::float8[],
        ${pieces.map((piece) => msParameter(piece.span.to))}::float8[]
      ) AS p(index, width, from_ms, to_ms)
      JOIN keys k ON k.index = p.index
    ), from_aggregates AS (
      SELECT p.index, SUM(
        CASE WHEN p.width IS NULL THEN (
          SELECT SUM(u."quantity") FROM "UsageRecord" u
          WHERE u."customerId" = p.customer_id AND u."featureId" = p.feature_id
            AND u."timestamp" >= COALESCE(p.from_at, '-infinity') AND u."timestamp" < COALESCE(p.to_at, 'infinity')
        ) ELSE (
          SELECT SUM(a."total") FROM "UsageAggregate" a
          WHERE a."customerId" = p.customer_id AND a."featureId" = p.feature_id AND a."width" = p.width
            AND a."bucketStart" >= COALESCE(p.from_at, '-infinity') AND a."bucketStart" < COALESCE(p.to_at, 'infinity')
        ) END
      ) AS used
      FROM pieces p
      -- Only the periods the probe found too many records in.
      JOIN probe ON probe.index = p.index AND NOT probe.few
      GROUP BY p.index
    )
    -- Each key once: from its probe, or from the aggregates. A union, not a join of the two:
    -- the planner cannot guess how many keys the aggregates answer, and joins them by
    -- comparing every pair.
    SELECT probe.index, COALESCE(probe.used, 0)::float8 AS used FROM probe WHERE probe.few
    UNION ALL
    SELECT from_aggregates.index, COALESCE(from_aggregates.used, 0)::float8 FROM from_aggregates`;
  const byIndex = new Map(sums.map((row) => [Number(row.index), Number(row.used)]));
  return keys.map((_key, index) => byIndex.get(index) ?? 0);
}

/** Usage sums for `keys`, in their order, through the cache: the misses in one statement. */
export const usageSumsThroughCache = (
  prisma: PrismaClient,
  projectId: string | null,
  cache: EntitlementCache,
  keys: readonly UsageKey[],
) => (projectId ? cache.usage(projectId, keys, (missing) => sumUsage(prisma, missing)) : sumUsage(prisma, keys));

/** Usage sums by `load`, batched across a request's resolvers. */
export const createUsageLoader = (load: (keys: readonly UsageKey[]) => Promise<number[]>) =>
  new DataLoader<UsageKey, number, string>(load, { cacheKeyFn: usageKeyString });

/**
 * The usage of one (customer, feature) in every whole UTC bucket of `width` starting in
 * [from, to), by bucket start (ms); buckets with no usage are absent. One statement over the
 * usage aggregates: its cost grows with the buckets, never with the records.
 */
export async function bucketSums(
  client: RawSql,
  key: { customerId: string; featureId: string },
  width: BucketWidth,
  from: number,
  to: number,
): Promise<Map<number, number>> {
  const rows = await client.$queryRaw<{ start_ms: number; used: number }[]>`
    SELECT (extract(epoch FROM a."bucketStart") * 1000)::float8 AS start_ms, SUM(a."total")::float8 AS used
    FROM "UsageAggregate" a
    WHERE a."customerId" = ${key.customerId}::uuid AND a."featureId" = ${key.featureId}::uuid
      AND a."width" = ${width}::"UsageBucketWidth"
      AND a."bucketStart" >= 'epoch'::timestamptz + ${from} * interval '1 millisecond'
      AND a."bucketStart" < 'epoch'::timestamptz + ${to} * interval '1 millisecond'
    GROUP BY a."bucketStart"`;
  return new Map(rows.map((row) => [Number(row.start_ms), Number(row.used)]));
}
