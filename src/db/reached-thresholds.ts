// Which usage thresholds have been reached in which period (docs/rules.md §6): the memory that
// makes a threshold announce itself once per period, whatever usage does after.
import type { Prisma } from "../generated/prisma/client.ts";

export interface ReachedThresholdKey {
  customerId: string;
  featureId: string;
  threshold: number;
  periodStart: Date;
}

const keyOf = (key: ReachedThresholdKey) => `${key.customerId}|${key.featureId}|${key.threshold}|${key.periodStart.getTime()}`;

/**
 * Remembers these reached thresholds, in the caller's transaction; answers those that were
 * not remembered yet (the ones to announce). Concurrent writers reaching one threshold
 * queue on its row: one of them remembers it, the others find it. One statement.
 */
export async function rememberReachedThresholds(tx: Prisma.TransactionClient, keys: readonly ReachedThresholdKey[]) {
  if (keys.length === 0) return [];
  const rows = JSON.stringify(keys.map((key) => ({ ...key, periodStart: key.periodStart.toISOString() })));
  const inserted = await tx.$queryRaw<{ customerId: string; featureId: string; threshold: number; periodStart: Date }[]>`
    INSERT INTO "ReachedThreshold" ("customerId", "featureId", "threshold", "periodStart")
    SELECT r."customerId", r."featureId", r."threshold", r."periodStart"
    FROM jsonb_to_recordset(${rows}::jsonb) AS r("customerId" uuid, "featureId" uuid, "threshold" float8, "periodStart" timestamptz)
    -- In key order: two writers reaching the same thresholds wait on each other in one order, never in a cycle.
    ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING
    RETURNING "customerId", "featureId", "threshold", "periodStart"`;
  const fresh = new Set(inserted.map(keyOf));
  return keys.filter((key) => fresh.has(keyOf(key)));
}
