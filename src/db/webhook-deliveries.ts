// The webhook delivery queue's storage (docs/rules.md §6). A delivery is attempted by one
// instance at a time: an instance claims due deliveries with a lease (FOR UPDATE SKIP LOCKED,
// so claimers never wait on each other nor take the same row), attempts them with no
// transaction open, and records the outcome only while it still holds the lease. An instance
// that dies mid-attempt leaves a lease that simply expires; another instance then takes over.
import type { PrismaClient, WebhookDeliveryStatus } from "../generated/prisma/client.ts";
import type { LoggedEvent } from "../events/logged-event.ts";
import { asLoggedEvent, type EventRow } from "./event-log.ts";

export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  url: string;
  /** The endpoint's signing secret (whsec_…), for signing this attempt only. */
  secret: string;
  /** Attempts made before this one. */
  attempts: number;
  event: LoggedEvent;
  /** The event's customer's externalId (null if the customer is gone). */
  customerExternalId: string | null;
}

interface ClaimedRow extends EventRow {
  deliveryId: string;
  endpointId: string;
  url: string;
  secret: string;
  attempts: number;
  externalId: string | null;
}

/**
 * Leases up to `limit` due deliveries of enabled endpoints to `holder` for `leaseMs`, oldest
 * due first, in one statement. A delivery whose lease has run out is due again.
 */
export async function claimDueDeliveries(prisma: PrismaClient, holder: string, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
  const rows = await prisma.$queryRaw<ClaimedRow[]>`
    WITH due AS (
      SELECT d."id" FROM "WebhookDelivery" d
      JOIN "WebhookEndpoint" w ON w."id" = d."endpointId"
      WHERE d."status" = 'PENDING' AND d."nextAttemptAt" <= now()
        AND (d."leasedUntil" IS NULL OR d."leasedUntil" < now())
        AND w."status" = 'ENABLED'
      ORDER BY d."nextAttemptAt", d."id"
      LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED
    ),
    leased AS (
      UPDATE "WebhookDelivery" d
      SET "leasedBy" = ${holder}, "leasedUntil" = now() + ${leaseMs}::int * interval '1 millisecond'
      FROM due WHERE d."id" = due."id"
      RETURNING d."id", d."endpointId", d."eventId", d."attempts"
    )
    SELECT l."id" AS "deliveryId", l."endpointId", l."attempts", w."url", w."secret", c."externalId",
      e."id", e."projectId", e."customerId", e."type", e."featureKeys", e."data", e."occurredAt"
    FROM leased l
    JOIN "WebhookEndpoint" w ON w."id" = l."endpointId"
    JOIN "LoggedEvent" e ON e."id" = l."eventId"
    LEFT JOIN "Customer" c ON c."id" = e."customerId"
    ORDER BY e."id"`;
  return rows.map((row) => ({
    id: row.deliveryId,
    endpointId: row.endpointId,
    url: row.url,
    secret: row.secret,
    attempts: row.attempts,
    event: asLoggedEvent(row),
    customerExternalId: row.externalId,
  }));
}

export interface AttemptRecord {
  status: WebhookDeliveryStatus;
  attempts: number;
  lastAttemptAt: Date;
  nextAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
}

/**
 * Records an attempt's outcome and lets go of the lease, if `holder` still holds it for the
 * attempt it made; false when the lease was lost (expired and taken over, or the delivery
 * queued again meanwhile), in which case nothing is written.
 */
export async function recordAttempt(
  prisma: PrismaClient,
  delivery: ClaimedDelivery,
  holder: string,
  record: AttemptRecord,
): Promise<boolean> {
  const { count } = await prisma.webhookDelivery.updateMany({
    where: { id: delivery.id, leasedBy: holder, status: "PENDING", attempts: delivery.attempts },
    data: { ...record, leasedBy: null, leasedUntil: null },
  });
  return count === 1;
}

/** Deliveries still to be made, every project's: the queue's depth. */
export const pendingDeliveries = (prisma: PrismaClient) => prisma.webhookDelivery.count({ where: { status: "PENDING" } });
