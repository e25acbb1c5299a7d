// Usage sums per (customer, feature, period): the one query that adds up usage, used by the
// per-request loader (through the cache) and inside consume's transaction. It reads the usage
// aggregates (src/db/usage-records.ts), so its cost does not grow with the records.
import DataLoader from "dataloader";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Entitlement } from "../domain/entitlements.ts";
import type { EntitlementCache, UsageKey } from "../cache/entitlement-cache.ts";
import { splitPeriod, type BucketWidth, type Span } from "../domain/usage-buckets.ts";

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

/** An instant as a parameter; an open end (an infinity) as null. */
const instantParameter = (ms: number) => (Number.isFinite(ms) ? new Date(ms) : null);

/**
 * Sums of usage for `keys`, in their order, in one statement for any number of keys. Each
 * period is read as whole buckets of the usage aggregates plus the raw records of its partial
 * edge minutes (src/domain/usage-buckets.ts): a bounded number of rows, however many records
 * the period holds. Each piece is an index range scan of its own (a scalar subquery per row).
 */
export async function sumUsage(client: PrismaClient | Prisma.TransactionClient, keys: readonly UsageKey[]): Promise<number[]> {
  const pieces = keys.flatMap(piecesOf);
  if (pieces.length === 0) return keys.map(() => 0);
  const sums = await client.$queryRaw<{ index: number; used: number }[]>`
    SELECT p.index, COALESCE(SUM(
      CASE WHEN p.width IS NULL THEN (
        SELECT SUM(u."quantity") FROM "UsageRecord" u
        WHERE u."customerId" = p.customer_id AND u."featureId" = p.feature_id
          AND u."timestamp" >= COALESCE(p.from_at, '-infinity') AND u."timestamp" < COALESCE(p.to_at, 'infinity')
      ) ELSE (
        SELECT SUM(a."total") FROM "UsageAggregate" a
        WHERE a."customerId" = p.customer_id AND a."featureId" = p.feature_id AND a."width" = p.width::"UsageBucketWidth"
          AND a."bucketStart" >= COALESCE(p.from_at, '-infinity') AND a."bucketStart" < COALESCE(p.to_at, 'infinity')
      ) END
    ), 0)::float8 AS used
    FROM unnest(
      ${pieces.map((piece) => piece.index)}::int[],
      ${pieces.map((piece) => piece.key.customerId)}::uuid[],
      ${pieces.map((piece) => piece.key.featureId)}::uuid[],
      ${pieces.map((piece) => piece.width)}::text[],
      ${pieces.map((piece) => instantParameter(piece.span.from))}::timestamptz[],
      ${pieces.map((piece) => instantParameter(piece.span.to))}::timestamptz[]
    ) AS p(index, customer_id, feature_id, width, from_at, to_at)
    GROUP BY p.index`;
  const byIndex = new Map(sums.map((row) => [Number(row.index), Number(row.used)]));
  return keys.map((_key, index) => byIndex.get(index) ?? 0);
}

/** Usage sums through the cache: the misses in one statement. */
export function createUsageLoader(prisma: PrismaClient, projectId: string | null, cache: EntitlementCache) {
  return new DataLoader<UsageKey, number, string>(
    (keys) => (projectId ? cache.usage(projectId, keys, (missing) => sumUsage(prisma, missing)) : sumUsage(prisma, keys)),
    { cacheKeyFn: usageKeyString },
  );
}
