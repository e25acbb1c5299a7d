// Delivers webhooks (docs/rules.md §6). Every instance runs one: each claims due deliveries
// (a lease, src/db/webhook-deliveries.ts), keeps up to `concurrency` attempts in flight, and
// looks for more every `pollIntervalMs`, whenever an attempt ends, and when woken (right after
// events are logged). Logs name deliveries and endpoints by id only: never a URL (receivers
// put tokens in them), a header or a secret.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import type { WebhookMetrics } from "../metrics.ts";
import { claimDueDeliveries, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import type { Resolver } from "../net/public-address.ts";
import { attemptDelivery, type WebhookSettings } from "../services/webhook-deliveries.ts";

export interface WebhookDeliveryWorker {
  /** Looks for due deliveries now instead of at the next poll. */
  wake(): void;
  /** Stops claiming and waits for the attempts in flight. */
  stop(): Promise<void>;
}

export function startWebhookDelivery({
  prisma,
  log,
  settings,
  metrics,
  resolve,
  holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
}: {
  prisma: PrismaClient;
  log: Logger;
  settings: WebhookSettings;
  metrics?: WebhookMetrics;
  /** How host names are resolved at delivery (default: the system's). */
  resolve?: Resolver;
  /** This worker's name on its leases; unique per worker. */
  holder?: string;
}): WebhookDeliveryWorker {
  const policy = { allowPrivate: settings.allowPrivateUrls, resolve };
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let claiming: Promise<void> | undefined;
  // A look asked for while one is under way: made as soon as it ends.
  let lookAgain = false;

  const attempt = (delivery: ClaimedDelivery) => {
    const ids = { deliveryId: delivery.id, endpointId: delivery.endpointId, eventId: delivery.event.id };
    const running = attemptDelivery(prisma, delivery, { holder, settings, policy })
      .then(({ outcome, status, recorded, durationMs }) => {
        metrics?.attempts.inc({ status });
        metrics?.attemptSeconds.observe(durationMs / 1000);
        const details = { ...ids, attempt: delivery.attempts + 1, status, httpStatus: outcome.status, durationMs };
        if (!recorded) log.warn(details, "webhook attempt made after its lease was lost; not recorded");
        else if (outcome.delivered) log.debug(details, "webhook delivered");
        else log.info({ ...details, error: outcome.error }, "webhook attempt failed");
      })
      .catch((error: unknown) => log.warn({ ...ids, err: error }, "webhook attempt not recorded; it is retried once its lease expires"))
      .finally(() => {
        inFlight.delete(running);
        look();
      });
    inFlight.add(running);
  };

  const look = () => {
    if (stopped) return;
    if (claiming) {
      lookAgain = true;
      return;
    }
    const room = settings.concurrency - inFlight.size;
    if (room <= 0) return;
    claiming = claimDueDeliveries(prisma, holder, settings.leaseMs, room)
      .then((claimed) => {
        for (const delivery of claimed) attempt(delivery);
        // A full claim: there may be more due, taken as soon as an attempt ends (which looks again).
      })
      .catch((error: unknown) => {
        lookAgain = false; // the database away: wait for the next poll rather than spin
        log.warn({ err: error }, "claiming webhook deliveries failed; retrying at the next poll");
      })
      .finally(() => {
        claiming = undefined;
        if (lookAgain) {
          lookAgain = false;
          look();
        }
      });
  };

  const timer = setInterval(look, settings.pollIntervalMs);
  timer.unref();
  look();
  return {
    wake: look,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await claiming;
      await Promise.all(inFlight);
    },
  };
}
