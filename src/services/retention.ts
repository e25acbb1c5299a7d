// Retention. Usage: raw usage records older than the retention are deleted, their sums kept in
// the usage aggregates, so lifetime sums and whole buckets of old periods stay as they were
// (docs/rules.md §5 says what is lost).
// Events: the event log keeps EVENT_RETENTION_DAYS; an `after` older than that is refused.
import { purgeEvents } from "../db/event-log.ts";
import { purgeUsageRecords } from "../db/usage-records.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";

const DAY_MS = 86_400_000;

/** Records one statement deletes: short transactions, so usage writes never wait long behind a purge. */
const PURGE_BATCH = 10_000;

export interface PurgeOptions {
  /** Days of raw records kept; 0 keeps them forever. */
  retentionDays: number;
  now?: Date;
  batchSize?: number;
}

/** Deletes the raw usage records older than the retention, batch after batch; how many were deleted. */
export async function purgeExpiredUsage(
  prisma: PrismaClient,
  { retentionDays, now = new Date(), batchSize = PURGE_BATCH }: PurgeOptions,
): Promise<number> {
  if (retentionDays <= 0) return 0;
  const before = new Date(now.getTime() - retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const deleted = await purgeUsageRecords(prisma, before, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** Deletes the logged events (and their webhook deliveries) older than the event retention; how many went. */
export async function purgeExpiredEvents(prisma: PrismaClient, { retentionDays, now = new Date(), batchSize = PURGE_BATCH }: PurgeOptions) {
  if (retentionDays <= 0) return 0;
  return purgeEvents(prisma, new Date(now.getTime() - retentionDays * DAY_MS), batchSize);
}
