// Attempting one webhook delivery (docs/rules.md §6): the signed POST, and what it leaves in
// the queue — SUCCEEDED on a 2xx, else the next attempt on the retry schedule, or FAILED once
// the schedule is spent. The worker (src/workers/webhook-delivery.ts) claims and paces them.
import { Webhook } from "standardwebhooks";
import type { PrismaClient, WebhookDeliveryStatus } from "../generated/prisma/client.ts";
import { recordAttempt, type AttemptRecord, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { sendWebhook, type AttemptOutcome } from "../net/webhook-request.ts";
import type { AddressPolicy } from "../net/public-address.ts";
import { webhookPayload } from "./webhook-payload.ts";

export interface WebhookSettings {
  /** WEBHOOK_TIMEOUT_MS: an attempt's deadline, from resolving the host to the answer's status. */
  timeoutMs: number;
  /** WEBHOOK_RETRY_SCHEDULE: the delay after each failed attempt; after the last, FAILED. */
  retryScheduleMs: readonly number[];
  /** WEBHOOK_ALLOW_PRIVATE_URLS: no address guard (local receivers). */
  allowPrivateUrls: boolean;
  /** How often an instance looks for due deliveries (besides being woken). */
  pollIntervalMs: number;
  /** Deliveries in flight per instance. */
  concurrency: number;
  /** How long a claim lasts; longer than an attempt can take, so only a dead instance's claim expires. */
  leaseMs: number;
}

const USER_AGENT = "entitlements-api-webhooks/1";

/** When to try again after `attempts` attempts have failed; null once the schedule is spent. */
export function nextAttemptAfterFailure(attempts: number, scheduleMs: readonly number[], at: Date): Date | null {
  const delay = scheduleMs[attempts - 1];
  return delay === undefined ? null : new Date(at.getTime() + delay);
}

/** The body and the Standard Webhooks headers of an attempt, signed at `at`. */
function signedRequest(delivery: ClaimedDelivery, at: Date): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(webhookPayload(delivery.event, delivery.customerExternalId));
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "webhook-id": delivery.event.id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(delivery.secret).sign(delivery.event.id, at, body),
    },
  };
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  status: WebhookDeliveryStatus;
  /** False when the lease was lost meanwhile: another instance owns the delivery now, nothing was recorded. */
  recorded: boolean;
  durationMs: number;
}

/** Makes one attempt of a delivery `holder` has claimed, and records it. */
export async function attemptDelivery(
  prisma: PrismaClient,
  delivery: ClaimedDelivery,
  { holder, settings, policy }: { holder: string; settings: WebhookSettings; policy: AddressPolicy },
): Promise<AttemptResult> {
  const startedAt = new Date();
  const { body, headers } = signedRequest(delivery, startedAt);
  const outcome = await sendWebhook({ url: delivery.url, body, headers, timeoutMs: settings.timeoutMs, policy });
  const durationMs = Date.now() - startedAt.getTime();
  const attempts = delivery.attempts + 1;
  const nextAttemptAt = outcome.delivered ? null : nextAttemptAfterFailure(attempts, settings.retryScheduleMs, new Date());
  const record: AttemptRecord = {
    status: outcome.delivered ? "SUCCEEDED" : nextAttemptAt ? "PENDING" : "FAILED",
    attempts,
    lastAttemptAt: startedAt,
    nextAttemptAt,
    lastResponseStatus: outcome.status,
    lastError: outcome.delivered ? null : outcome.error,
  };
  const recorded = await recordAttempt(prisma, delivery, holder, record);
  return { outcome, status: record.status, recorded, durationMs };
}
