// Usage sums per (customer, feature, period): the one query that adds up usage records,
// used by the per-request loader (through the cache) and inside consume's transaction.
import DataLoader from "dataloader";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Entitlement } from "../domain/entitlements.ts";
import type { EntitlementCache, UsageKey } from "../cache/entitlement-cache.ts";

export type { UsageKey };

/** The usage that counts against an entitlement: its customer, feature and current period. */
export const usageKeyOf = (customerId: string, entitlement: Entitlement): UsageKey => ({
  customerId,
  featureId: entitlement.feature.id,
  start: entitlement.period?.start ?? null,
  end: entitlement.period?.end ?? null,
});

const usageKeyString = (key: UsageKey) => `${key.customerId}|${key.featureId}|${key.start?.getTime() ?? ""}|${key.end?.getTime() ?? ""}`;

/** Sums of usage for `keys`, in their order, in one statement with five array parameters. */
export async function sumUsage(client: PrismaClient | Prisma.TransactionClient, keys: readonly UsageKey[]): Promise<number[]> {
  const sums = await client.$queryRaw<{ index: number; used: number }[]>`
    SELECT k.index, COALESCE(SUM(u."quantity"), 0)::float8 AS used
    FROM unnest(
      ${keys.map((_key, index) => index)}::int[],
      ${keys.map((key) => key.customerId)}::uuid[],
      ${keys.map((key) => key.featureId)}::uuid[],
      ${keys.map((key) => key.start)}::timestamptz[],
      ${keys.map((key) => key.end)}::timestamptz[]
    ) AS k(index, customer_id, feature_id, start_at, end_at)
    LEFT JOIN "UsageRecord" u
      ON u."customerId" = k.customer_id AND u."featureId" = k.feature_id
      -- A range the (customerId, featureId, timestamp) index can bound, open ends as infinities.
      AND u."timestamp" >= COALESCE(k.start_at, '-infinity') AND u."timestamp" < COALESCE(k.end_at, 'infinity')
    GROUP BY k.index`;
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
