// Grants: a value given straight to a customer for one feature (trials, promotions, compensation).
import { creditAmountProblem, type EntitlementValueInput } from "../domain/entitlement-value.ts";
import { CREDIT_VALUE } from "../domain/entitlements.ts";
import { isBefore } from "../domain/time.ts";
import type { Feature, Grant, Prisma } from "../generated/prisma/client.ts";
import { invalidInput, notFound } from "../errors.ts";
import { featureByKey, pickValue, requireCompleteValue, requireUsableFeature } from "./catalog.ts";
import { withChangeEvents } from "./changes.ts";
import { earlierEnd } from "./ends.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import type { ProjectScope } from "./scope.ts";

export interface GrantInput extends EntitlementValueInput {
  customer: CustomerRef;
  /** Default ALLOWANCE. */
  kind?: "ALLOWANCE" | "CREDIT" | null;
  /** CREDIT: the amount given, > 0. */
  amount?: number | null;
  featureKey: string;
  priority?: number | null;
  effectiveAt?: Date | null;
  expiresAt?: Date | null;
  reason?: string | null;
  metadata?: Prisma.InputJsonValue | null;
}

/** The value fields a CREDIT grant does not take: it gives an amount, nothing per period. */
const NOT_FOR_CREDITS = ["usageLimit", "isUnlimited", "resetPeriod", "isSoftLimit", "staticValue", "isEnabled"] as const;

/** An ALLOWANCE's value, or a CREDIT's amount (docs/rules.md §8), checked against the feature. */
function grantValue(feature: Feature, input: GrantInput) {
  if (input.kind !== "CREDIT") {
    if (input.amount !== null && input.amount !== undefined)
      throw invalidInput("input.amount", "is only for a CREDIT grant (kind: CREDIT)");
    return { kind: "ALLOWANCE" as const, ...requireCompleteValue(feature, pickValue(input)) };
  }
  if (feature.type !== "METERED") {
    throw invalidInput("input.kind", `a CREDIT grant is for a METERED feature; ${feature.key} is ${feature.type}`);
  }
  const given = NOT_FOR_CREDITS.find((field) => input[field] !== null && input[field] !== undefined);
  if (given) throw invalidInput(`input.${given}`, "is not for a CREDIT grant, which gives an amount once instead");
  const problem = creditAmountProblem(input.amount);
  if (problem) throw invalidInput("input.amount", problem);
  return { kind: "CREDIT" as const, amount: input.amount as number, ...CREDIT_VALUE };
}

export async function createGrant(scope: ProjectScope, input: GrantInput): Promise<Grant> {
  const effectiveAt = input.effectiveAt ?? new Date();
  if (input.expiresAt && !isBefore(effectiveAt, input.expiresAt)) {
    throw invalidInput("input.expiresAt", `must be after effectiveAt (${effectiveAt.toISOString()})`);
  }
  const customer = await resolveCustomerRef(scope, input.customer, "input.customer");
  const feature = await featureByKey(scope, input.featureKey, "input.featureKey");
  requireUsableFeature(feature, false, "granted", "input.featureKey");
  const value = grantValue(feature, input);
  return withChangeEvents(
    scope,
    [customer.id],
    "GRANT_CHANGED",
    (tx) =>
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
    "Grant",
  );
}

/** Ends the grant at `at` (default: now; only earlier than an end already set); its history stays. */
export async function voidGrant(scope: ProjectScope, id: string, at: Date | null | undefined): Promise<Grant> {
  const grant = await scope.prisma.grant.findFirst({ where: { id, projectId: scope.projectId } });
  if (!grant) throw notFound("Grant", "id");
  const voidedAt = earlierEnd("grant", grant.voidedAt, at);
  return withChangeEvents(
    scope,
    [grant.customerId],
    "GRANT_CHANGED",
    (tx) => tx.grant.update({ where: { id: grant.id }, data: { voidedAt } }),
    "Grant",
  );
}
