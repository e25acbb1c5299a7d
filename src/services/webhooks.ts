// Webhook endpoints (ADMIN, docs/rules.md §6): registering, editing and disabling them, their
// signing secrets (shown once, at creation and at each rotation), and queueing a delivery
// again. Deliveries themselves are made by the delivery worker (webhook-deliveries.ts).
import { randomBytes } from "node:crypto";
import type { EventType, WebhookDelivery, WebhookEndpoint, WebhookEndpointStatus } from "../generated/prisma/client.ts";
import { invalidInput, invalidOperation, notFound } from "../errors.ts";
import { AddressRefused, checkWebhookUrl, type AddressPolicy } from "../net/public-address.ts";
import type { ProjectScope } from "./scope.ts";
import { auditedWrite, auditIn } from "./audit.ts";

/** Every event type: what an endpoint receives unless it names some. */
const ALL_EVENT_TYPES: readonly EventType[] = ["ENTITLEMENTS_CHANGED", "USAGE_THRESHOLD_REACHED"];

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
const generateSigningSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

export interface CreatedEndpoint {
  endpoint: WebhookEndpoint;
  /** Shown to the caller this once; afterwards only the delivery worker reads it. */
  signingSecret: string;
}

/** `url` if a webhook may be sent there; VALIDATION_ERROR on input.url saying why not. */
async function acceptedUrl(url: string, policy: AddressPolicy): Promise<string> {
  try {
    await checkWebhookUrl(url, policy);
  } catch (error) {
    if (error instanceof AddressRefused) throw invalidInput("input.url", error.message);
    throw error;
  }
  return url;
}

export async function createWebhookEndpoint(
  scope: ProjectScope,
  policy: AddressPolicy,
  input: { url: string; description?: string | null; eventTypes?: readonly EventType[] | null },
): Promise<CreatedEndpoint> {
  const url = await acceptedUrl(input.url, policy);
  const signingSecret = generateSigningSecret();
  const endpoint = await auditedWrite(scope, "WebhookEndpoint", (tx) =>
    tx.webhookEndpoint.create({
      data: {
        projectId: scope.projectId,
        url,
        description: input.description ?? null,
        eventTypes: [...new Set(input.eventTypes ?? ALL_EVENT_TYPES)],
        secret: signingSecret,
      },
    }),
  );
  return { endpoint, signingSecret };
}

async function endpointOfProject(scope: ProjectScope, id: string, field: string): Promise<WebhookEndpoint> {
  const endpoint = await scope.prisma.webhookEndpoint.findFirst({ where: { id, projectId: scope.projectId } });
  if (!endpoint) throw notFound("Webhook endpoint", field);
  return endpoint;
}

/** Changes what is given; a DISABLED endpoint gets no new deliveries and its pending ones wait. */
export async function updateWebhookEndpoint(
  scope: ProjectScope,
  policy: AddressPolicy,
  input: {
    id: string;
    url?: string | null;
    description?: string | null;
    eventTypes?: readonly EventType[] | null;
    status?: WebhookEndpointStatus | null;
  },
): Promise<WebhookEndpoint> {
  const endpoint = await endpointOfProject(scope, input.id, "input.id");
  const url = input.url == null ? undefined : await acceptedUrl(input.url, policy);
  return auditedWrite(scope, "WebhookEndpoint", (tx) =>
    tx.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: {
        url,
        // An explicit null clears the description; leaving it out keeps it.
        description: input.description,
        eventTypes: input.eventTypes ? [...new Set(input.eventTypes)] : undefined,
        status: input.status ?? undefined,
      },
    }),
  );
}

/** A new secret, shown once: every attempt from now on is signed with it alone. */
export async function rotateWebhookSecret(scope: ProjectScope, id: string): Promise<CreatedEndpoint> {
  const endpoint = await endpointOfProject(scope, id, "id");
  const signingSecret = generateSigningSecret();
  const rotated = await auditedWrite(scope, "WebhookEndpoint", (tx) =>
    tx.webhookEndpoint.update({ where: { id: endpoint.id }, data: { secret: signingSecret } }),
  );
  return { endpoint: rotated, signingSecret };
}

/**
 * Queues a delivery again (typically a FAILED one): due now, its attempts counted afresh. One
 * being attempted right now (its lease held) is left to that attempt: one instance at a time.
 */
export async function retryWebhookDelivery(scope: ProjectScope, id: string): Promise<WebhookDelivery> {
  const owned = { id, endpoint: { projectId: scope.projectId } };
  return scope.prisma.$transaction(async (tx) => {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { ...owned, OR: [{ leasedUntil: null }, { leasedUntil: { lt: new Date() } }] },
      data: { status: "PENDING", attempts: 0, nextAttemptAt: new Date(), leasedBy: null, leasedUntil: null },
    });
    if (count === 0) {
      if ((await tx.webhookDelivery.count({ where: owned })) === 0) throw notFound("Webhook delivery", "id");
      throw invalidOperation("This delivery is being attempted right now; retry it once the attempt has ended", "id");
    }
    await auditIn(tx, { type: "WebhookDelivery", id });
    return tx.webhookDelivery.findUniqueOrThrow({ where: { id } });
  });
}
