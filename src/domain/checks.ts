// Usage against a limit, access, and checks (docs/rules.md §5).
import type { Entitlement } from "./entitlements.ts";

export type CheckReason = "ENTITLED" | "SOFT_LIMIT_EXCEEDED" | "LIMIT_EXCEEDED" | "NOT_ENTITLED";

export type CheckResult =
  | { allowed: true; reason: "ENTITLED" | "SOFT_LIMIT_EXCEEDED" }
  | { allowed: false; reason: "LIMIT_EXCEEDED" | "NOT_ENTITLED" };

export interface UsageSummary {
  used: number;
  /** Null when unlimited; negative once a soft limit is exceeded. */
  remaining: number | null;
}

export function usageSummary(entitlement: Pick<Entitlement, "usageLimit" | "isUnlimited">, used: number): UsageSummary {
  return { used, remaining: entitlement.isUnlimited || entitlement.usageLimit === null ? null : entitlement.usageLimit - used };
}

/** BOOLEAN and STATIC: enabled. METERED: enabled and unlimited, soft, or used < limit. */
export function hasAccess(entitlement: Entitlement, used: number): boolean {
  if (!entitlement.isEnabled) return false;
  if (entitlement.feature.type !== "METERED") return true;
  return entitlement.isUnlimited || entitlement.isSoftLimit || used < (entitlement.usageLimit ?? 0);
}

/** May the customer use `quantity` more? A null entitlement is a feature with no active source. */
export function check(entitlement: Entitlement | null, used: number, quantity = 1): CheckResult {
  if (!entitlement?.isEnabled) return { allowed: false, reason: "NOT_ENTITLED" };
  const limited = entitlement.feature.type === "METERED" && !entitlement.isUnlimited;
  if (limited && used + quantity > (entitlement.usageLimit ?? 0)) {
    return entitlement.isSoftLimit ? { allowed: true, reason: "SOFT_LIMIT_EXCEEDED" } : { allowed: false, reason: "LIMIT_EXCEEDED" };
  }
  return { allowed: true, reason: "ENTITLED" };
}
