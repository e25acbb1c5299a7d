// Usage against a limit and credits, access, and checks (docs/rules.md §5, §8).
import { available } from "./credits.ts";
import type { Entitlement } from "./entitlements.ts";

export type CheckReason = "ENTITLED" | "SOFT_LIMIT_EXCEEDED" | "LIMIT_EXCEEDED" | "NOT_ENTITLED";

export type CheckResult =
  | { allowed: true; reason: "ENTITLED" | "SOFT_LIMIT_EXCEEDED" }
  | { allowed: false; reason: "LIMIT_EXCEEDED" | "NOT_ENTITLED" };

export interface UsageSummary {
  used: number;
  /** Null when unlimited; negative once a soft limit is exceeded or credits covered the excess. */
  remaining: number | null;
  /** What the active credits still hold. */
  creditsRemaining: number;
  /** max(0, remaining) + creditsRemaining; null when unlimited. */
  available: number | null;
}

type Limits = Pick<Entitlement, "usageLimit" | "isUnlimited">;

export function usageSummary(entitlement: Limits, used: number, creditsRemaining = 0): UsageSummary {
  const unlimited = entitlement.isUnlimited || entitlement.usageLimit === null;
  return {
    used,
    remaining: unlimited ? null : (entitlement.usageLimit as number) - used,
    creditsRemaining,
    available: available(entitlement.usageLimit, entitlement.isUnlimited, used, creditsRemaining),
  };
}

/**
 * BOOLEAN and STATIC: enabled. METERED: enabled and unlimited, soft, or something still
 * available (what is left of the limit, or credits).
 */
export function hasAccess(entitlement: Entitlement, used: number, creditsRemaining = 0): boolean {
  if (!entitlement.isEnabled) return false;
  if (entitlement.feature.type !== "METERED") return true;
  if (entitlement.isUnlimited || entitlement.isSoftLimit) return true;
  return (available(entitlement.usageLimit, false, used, creditsRemaining) ?? 0) > 0;
}

/**
 * May the customer use `quantity` more? A null entitlement is a feature with no active
 * source. A limited METERED feature allows what is available: what is left of the limit
 * plus what credits hold (a soft limit allows more, and says so). Without credits that is
 * used + quantity ≤ usageLimit, which also refuses a quantity of 0 once over the limit.
 */
export function check(entitlement: Entitlement | null, used: number, quantity = 1, creditsRemaining = 0): CheckResult {
  if (!entitlement?.isEnabled) return { allowed: false, reason: "NOT_ENTITLED" };
  const limit = entitlement.feature.type === "METERED" && !entitlement.isUnlimited ? (entitlement.usageLimit ?? 0) : null;
  const exceeded =
    limit !== null && (creditsRemaining > 0 ? quantity > (available(limit, false, used, creditsRemaining) ?? 0) : used + quantity > limit);
  if (exceeded) {
    return entitlement.isSoftLimit ? { allowed: true, reason: "SOFT_LIMIT_EXCEEDED" } : { allowed: false, reason: "LIMIT_EXCEEDED" };
  }
  return { allowed: true, reason: "ENTITLED" };
}
