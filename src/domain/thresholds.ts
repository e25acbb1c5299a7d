// Usage thresholds (docs/rules.md §6): a METERED feature's alertThresholds are percentages of a
// customer's usage limit; each is reached once per usage period, when the period's usage
// first stands at or above its share of the limit. What was reached is remembered per
// period (by the caller, in the database), so that usage hovering around a threshold,
// falling back and rising again announces nothing more; the next period starts afresh.
import type { Entitlement } from "./entitlements.ts";
import { periodHolds } from "./periods.ts";

/** Whether any threshold can be reached: enabled, METERED, a finite limit above 0, and thresholds set. */
function hasThresholds(entitlement: Entitlement): boolean {
  return (
    entitlement.feature.type === "METERED" &&
    entitlement.feature.alertThresholds.length > 0 &&
    entitlement.isEnabled &&
    !entitlement.isUnlimited &&
    entitlement.usageLimit !== null &&
    entitlement.usageLimit > 0
  );
}

/** Whether usage recorded at `timestamp` counts towards the thresholds of the entitlement's current period. */
export const usageCanReachThreshold = (entitlement: Entitlement, timestamp: Date): boolean =>
  hasThresholds(entitlement) && periodHolds(entitlement.period, timestamp);

/** The thresholds `used` stands at or above in the entitlement's current period, lowest first. */
export function thresholdsReached(entitlement: Entitlement, used: number): number[] {
  if (!hasThresholds(entitlement)) return [];
  const limit = entitlement.usageLimit as number;
  return [...entitlement.feature.alertThresholds].sort((a, b) => a - b).filter((threshold) => used >= (threshold / 100) * limit);
}

/** The instant a reached threshold is remembered under: the period's start (the epoch for a period that never resets). */
export const thresholdPeriodStart = (entitlement: Entitlement): Date => entitlement.period?.start ?? new Date(0);
