// Usage records: recorded whatever the limit (idempotent by key), or consumed against a
// hard limit in one atomic step per (customer, feature).
import { check, type CheckReason } from "../domain/checks.ts";
import { uniqueViolationFields } from "../db/errors.ts";
import { insertUsageRecords } from "../db/usage-records.ts";
import type { Feature, Prisma, UsageRecord } from "../generated/prisma/client.ts";
import { usageKeyOf, sumUsage } from "../loaders/usage.ts";
import { alreadyExists, invalidInput, notFound } from "../errors.ts";
import { featureByKey } from "./catalog.ts";
import { withChangeEvents } from "./changes.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { readEntitlement, type EvaluatedEntitlement } from "./entitlements.ts";
import type { ProjectScope } from "./scope.ts";

/** How far ahead of now a usage timestamp may be. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

async function meteredFeature(scope: ProjectScope, featureKey: string): Promise<Feature> {
  const feature = await featureByKey(scope, featureKey, "input.featureKey");
  if (feature.type !== "METERED") {
    throw invalidInput("input.featureKey", `usage is recorded for METERED features only; "${feature.key}" is ${feature.type}`);
  }
  return feature;
}

/** The record an idempotency key already wrote in this project, if any. */
const recordForKey = (client: Prisma.TransactionClient, projectId: string, key: string) =>
  client.usageRecord.findUnique({ where: { projectId_idempotencyKey: { projectId, idempotencyKey: key } } });

/** Where a usage call would write: its customer and feature. */
interface UsageTarget {
  customerId: string;
  featureId: string;
}

/**
 * The first record of a key, as the answer to a retry. The key is unique in the project but
 * a retry is one for the same customer and feature: any other use of it is ALREADY_EXISTS.
 */
function asRetryOf(first: UsageRecord, target: UsageTarget): UsageRecord {
  if (first.customerId !== target.customerId || first.featureId !== target.featureId) {
    throw alreadyExists("usage record for another customer or feature", "input.idempotencyKey", first.idempotencyKey ?? undefined);
  }
  return first;
}

/** The record that a key's first use wrote, as the answer to a later write with the key that inserted nothing. */
async function firstOfKey(client: Prisma.TransactionClient, projectId: string, target: UsageTarget & { idempotencyKey: string | null }) {
  const first = target.idempotencyKey ? await recordForKey(client, projectId, target.idempotencyKey) : null;
  if (!first) throw notFound("Usage record", "input.idempotencyKey", target.idempotencyKey ?? undefined);
  return asRetryOf(first, target);
}

/**
 * A write that lost a race for its key (another call, for any customer or feature, wrote it
 * first, unseen by this call's check): the first record answers, once committed.
 */
async function afterLostRace(scope: ProjectScope, error: unknown, key: string | null | undefined, target: UsageTarget) {
  if (!key || !uniqueViolationFields(error)) throw error;
  const first = await recordForKey(scope.prisma, scope.projectId, key);
  if (!first) throw notFound("Usage record", "input.idempotencyKey", key);
  return asRetryOf(first, target);
}

export interface UsageInput {
  customer: CustomerRef;
  featureKey: string;
  quantity?: number | null;
  timestamp?: Date | null;
  idempotencyKey?: string | null;
}

/** Records usage of a METERED feature whatever the limit; late events count in the period they fall in. */
export async function recordUsage(scope: ProjectScope, input: UsageInput): Promise<UsageRecord> {
  const now = Date.now();
  if (input.timestamp && input.timestamp.getTime() > now + MAX_CLOCK_SKEW_MS) {
    throw invalidInput("input.timestamp", "must not be more than 5 minutes in the future");
  }
  const customer = await resolveCustomerRef(scope, input.customer, "input.customer");
  const feature = await meteredFeature(scope, input.featureKey);
  const data = {
    projectId: scope.projectId,
    customerId: customer.id,
    featureId: feature.id,
    quantity: input.quantity ?? 1,
    timestamp: input.timestamp ?? new Date(now),
    idempotencyKey: input.idempotencyKey ?? null,
  };
  const [record] = await withChangeEvents(scope, [customer.id], "USAGE_CHANGED", () => insertUsageRecords(scope.prisma, [data]));
  // Nothing inserted: a retry, or a race with another call using the key; the first record stands.
  return record ?? firstOfKey(scope.prisma, scope.projectId, data);
}

export interface ConsumeOutcome {
  allowed: boolean;
  reason: CheckReason;
  /** The record written (or, for a retry, first written); null when refused. */
  record: UsageRecord | null;
  /** The entitlement as it stands after this step. */
  entitlement: EvaluatedEntitlement | null;
}

/** Checks a hard limit and records the usage in one atomic step. */
export async function consumeEntitlement(scope: ProjectScope, input: Omit<UsageInput, "timestamp">): Promise<ConsumeOutcome> {
  const { projectId } = scope;
  const customer = await resolveCustomerRef(scope, input.customer, "input.customer");
  const feature = await meteredFeature(scope, input.featureKey);
  const quantity = input.quantity ?? 1;
  const now = new Date();
  const { evaluated } = await readEntitlement(scope.loaders, customer.id, feature.key, now);
  const target = { customerId: customer.id, featureId: feature.id };
  /** A retry answers as the first call did (a key first used by recordUsage: ENTITLED). */
  const retried = (previous: UsageRecord) => ({
    allowed: true,
    reason: (previous.consumeReason ?? "ENTITLED") as CheckReason,
    record: asRetryOf(previous, target),
  });
  const outcome = await withChangeEvents(scope, [customer.id], "USAGE_CHANGED", () =>
    scope.prisma.$transaction(async (tx) => {
      // One consumer at a time per (customer, feature): the check and the write see the same usage.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${customer.id}:${feature.id}`}, 0))`;
      if (input.idempotencyKey) {
        const previous = await recordForKey(tx, projectId, input.idempotencyKey);
        if (previous) return retried(previous);
      }
      const entitlement = evaluated?.entitlement ?? null;
      const [used = 0] = entitlement ? await sumUsage(tx, [usageKeyOf(customer.id, entitlement)]) : [];
      const decision = check(entitlement, used, quantity);
      if (!decision.allowed) return { ...decision, record: null };
      const [record] = await insertUsageRecords(tx, [
        { projectId, ...target, quantity, timestamp: now, idempotencyKey: input.idempotencyKey ?? null, consumeReason: decision.reason },
      ]);
      // Nothing inserted: a recordUsage with the key (it takes no lock) committed meanwhile.
      if (!record) return retried(await firstOfKey(tx, projectId, { ...target, idempotencyKey: input.idempotencyKey ?? null }));
      return { ...decision, record };
    }),
  ).catch(async (error: unknown) => retried(await afterLostRace(scope, error, input.idempotencyKey, target)));
  // The entitlement as it stands after this step (usage read afresh).
  scope.loaders.usage.clearAll();
  const after = await readEntitlement(scope.loaders, customer.id, feature.key, now);
  return { ...outcome, entitlement: after.evaluated };
}
