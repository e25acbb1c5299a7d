// Deletes what is past its retention every `intervalMs`: raw usage records
// (USAGE_RETENTION_DAYS) and logged events (EVENT_RETENTION_DAYS). Any number of instances
// may run it: their deletes of the same rows simply find them gone.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import { purgeExpiredEvents, purgeExpiredUsage, type PurgeOptions } from "../services/retention.ts";

export interface Retention {
  /** Stops purging and waits for a purge under way. */
  stop(): Promise<void>;
}

const PURGES = [
  { what: "usage records", purge: purgeExpiredUsage, days: "usageRetentionDays" },
  { what: "logged events", purge: purgeExpiredEvents, days: "eventRetentionDays" },
] as const;

export function startRetention({
  prisma,
  log,
  usageRetentionDays,
  eventRetentionDays,
  intervalMs = 3_600_000,
}: {
  prisma: PrismaClient;
  log: Logger;
  usageRetentionDays: number;
  eventRetentionDays: number;
  intervalMs?: number;
}): Retention {
  const days = { usageRetentionDays, eventRetentionDays };
  const due = PURGES.filter((purge) => days[purge.days] > 0);
  if (due.length === 0) return { stop: async () => undefined };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const purgeAll = async () => {
    for (const { what, purge, days: setting } of due) {
      const options: PurgeOptions = { retentionDays: days[setting] };
      const deleted = await purge(prisma, options).catch((error: unknown) => {
        log.warn({ err: error }, `purge of ${what} past the retention failed; retrying`);
        return 0;
      });
      if (deleted > 0) log.info({ deleted, retentionDays: options.retentionDays }, `${what} past the retention deleted`);
    }
  };
  const run = () => {
    running = purgeAll().finally(() => {
      if (!stopped) timer = setTimeout(run, intervalMs);
    });
  };
  run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
