// Checks: may this customer use this much more of a feature at an instant (docs/rules.md §5)?
import { check, type CheckResult } from "../domain/checks.ts";
import { featureByKey } from "./catalog.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { readEntitlement, type EvaluatedEntitlement } from "./entitlements.ts";
import type { ProjectScope } from "./scope.ts";

export type EntitlementCheck = CheckResult & { entitlement: EvaluatedEntitlement | null };

export async function checkEntitlement(
  scope: ProjectScope,
  input: { customer: CustomerRef; featureKey: string; quantity?: number | null; at?: Date | null },
): Promise<EntitlementCheck> {
  const customer = await resolveCustomerRef(scope, input.customer, "customer");
  await featureByKey(scope, input.featureKey, "featureKey");
  const { evaluated, used, creditsRemaining } = await readEntitlement(scope.loaders, customer.id, input.featureKey, input.at ?? new Date());
  return { ...check(evaluated?.entitlement ?? null, used, input.quantity ?? 1, creditsRemaining), entitlement: evaluated };
}

/** One known feature's entitlement of a customer at `at`; null when no source is active then. */
export async function entitlementOf(scope: ProjectScope, customerId: string, featureKey: string, at: Date | null | undefined) {
  await featureByKey(scope, featureKey, "featureKey");
  return (await readEntitlement(scope.loaders, customerId, featureKey, at ?? new Date())).evaluated;
}
