// Deletes raw usage records past the retention (USAGE_RETENTION_DAYS) every `intervalMs`.
// Any number of instances may run it: their deletes of the same rows simply find them gone.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import { purgeExpiredUsage } from "../services/retention.ts";

export interface UsageRetention {
  /** Stops purging and waits for a purge under way. */
  stop(): Promise<void>;
}

export function startUsageRetention({
  prisma,
  log,
  retentionDays,
  intervalMs = 3_600_000,
}: {
  prisma: PrismaClient;
  log: Logger;
  retentionDays: number;
  intervalMs?: number;
}): UsageRetention {
  if (retentionDays <= 0) return { stop: async () => undefined };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const purge = () => {
    running = purgeExpiredUsage(prisma, { retentionDays })
      .then((deleted) => {
        if (deleted > 0) log.info({ deleted, retentionDays }, "usage records past the retention deleted");
      })
      .catch((error: unknown) => log.warn({ err: error }, "usage retention purge failed; retrying"))
      .finally(() => {
        if (!stopped) timer = setTimeout(purge, intervalMs);
      });
  };
  purge();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
