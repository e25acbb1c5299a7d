// Grants: a value given straight to a customer for one feature (trials, promotions, compensation).
import type { EntitlementValueInput } from "../domain/entitlement-value.ts";
import { isBefore } from "../domain/time.ts";
import type { Grant, Prisma } from "../generated/prisma/client.ts";
import { invalidInput, notFound } from "../errors.ts";
import { featureByKey, pickValue, requireCompleteValue, requireUsableFeature } from "./catalog.ts";
import { withChangeEvents } from "./changes.ts";
import { earlierEnd } from "./ends.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import type { ProjectScope } from "./scope.ts";

export interface GrantInput extends EntitlementValueInput {
  customer: CustomerRef;
  featureKey: string;
  priority?: number | null;
  effectiveAt?: Date | null;
  expiresAt?: Date | null;
  reason?: string | null;
  metadata?: Prisma.InputJsonValue | null;
}

export async function createGrant(scope: ProjectScope, input: GrantInput): Promise<Grant> {
  const effectiveAt = input.effectiveAt ?? new Date();
  if (input.expiresAt && !isBefore(effectiveAt, input.expiresAt)) {
    throw invalidInput("input.expiresAt", `must be after effectiveAt (${effectiveAt.toISOString()})`);
  }
  const customer = await resolveCustomerRef(scope, input.customer, "input.customer");
  const feature = await featureByKey(scope, input.featureKey, "input.featureKey");
  requireUsableFeature(feature, false, "granted", "input.featureKey");
  const value = requireCompleteValue(feature, pickValue(input));
  return withChangeEvents(scope, [customer.id], "GRANT_CHANGED", (tx) =>
    tx.grant.create({
      data: {
        projectId: scope.projectId,
        customerId: customer.id,
        featureId: feature.id,
        ...value,
        priority: input.priority ?? 0,
        effectiveAt,
        expiresAt: input.expiresAt ?? null,
        reason: input.reason ?? null,
        metadata: input.metadata ?? undefined,
      },
    }),
  );
}

/** Ends the grant at `at` (default: now; only earlier than an end already set); its history stays. */
export async function voidGrant(scope: ProjectScope, id: string, at: Date | null | undefined): Promise<Grant> {
  const grant = await scope.prisma.grant.findFirst({ where: { id, projectId: scope.projectId } });
  if (!grant) throw notFound("Grant", "id");
  const voidedAt = earlierEnd("grant", grant.voidedAt, at);
  return withChangeEvents(scope, [grant.customerId], "GRANT_CHANGED", (tx) =>
    tx.grant.update({ where: { id: grant.id }, data: { voidedAt } }),
  );
}
