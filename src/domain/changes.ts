// What a subscriber is told about (docs/rules.md §6): an entitlement changed when any of isEnabled,
// usageLimit, isUnlimited, isSoftLimit, resetPeriod, staticValues or hasAccess changed, or
// when the feature appeared or went. Usage moves hasAccess alone, and only under a hard limit.
import type { Entitlement } from "./entitlements.ts";
import { hasAccess } from "./checks.ts";
import { periodHolds } from "./periods.ts";

export type EntitlementView = Pick<
  Entitlement,
  "isEnabled" | "usageLimit" | "isUnlimited" | "isSoftLimit" | "resetPeriod" | "staticValues"
> & {
  hasAccess: boolean;
};

/** The observable state of a customer's entitlements, by feature key. */
export type EntitlementSnapshot = ReadonlyMap<string, EntitlementView>;

export function snapshotOf(
  entitlements: readonly { entitlement: Entitlement; used: number; creditsRemaining: number }[],
): EntitlementSnapshot {
  return new Map(
    entitlements.map(({ entitlement, used, creditsRemaining }) => [
      entitlement.feature.key,
      {
        isEnabled: entitlement.isEnabled,
        usageLimit: entitlement.usageLimit,
        isUnlimited: entitlement.isUnlimited,
        isSoftLimit: entitlement.isSoftLimit,
        resetPeriod: entitlement.resetPeriod,
        staticValues: entitlement.staticValues,
        hasAccess: hasAccess(entitlement, used, creditsRemaining),
      },
    ]),
  );
}

const sameView = (a: EntitlementView, b: EntitlementView) =>
  a.isEnabled === b.isEnabled &&
  a.usageLimit === b.usageLimit &&
  a.isUnlimited === b.isUnlimited &&
  a.isSoftLimit === b.isSoftLimit &&
  a.resetPeriod === b.resetPeriod &&
  a.hasAccess === b.hasAccess &&
  a.staticValues.length === b.staticValues.length &&
  a.staticValues.every((value, index) => value === b.staticValues[index]);

/** The feature keys whose observable state differs, sorted; empty when nothing changed. */
export function changedFeatureKeys(before: EntitlementSnapshot, after: EntitlementSnapshot): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys]
    .filter((key) => {
      const a = before.get(key);
      const b = after.get(key);
      return !a || !b || !sameView(a, b);
    })
    .sort();
}

/**
 * Whether usage recorded at `timestamp` can change what a subscriber sees of `entitlement`:
 * only its hasAccess can move, and only when it is enabled with a finite hard limit and the
 * record counts in its current period. Unlimited, soft or disabled entitlements, other
 * features and late records of an earlier period cannot.
 */
export function usageCanFlipAccess(entitlement: Entitlement, timestamp: Date): boolean {
  return (
    entitlement.feature.type === "METERED" &&
    entitlement.isEnabled &&
    !entitlement.isUnlimited &&
    !entitlement.isSoftLimit &&
    entitlement.usageLimit !== null &&
    periodHolds(entitlement.period, timestamp)
  );
}

/**
 * Whether adding `added` to the period's usage, now `usedAfter`, flipped the entitlement's
 * hasAccess, the credits holding `creditsAfter` now after giving `drawn` to it.
 */
export const usageFlippedAccess = (entitlement: Entitlement, usedAfter: number, added: number, creditsAfter = 0, drawn = 0): boolean =>
  hasAccess(entitlement, usedAfter - added, creditsAfter + drawn) !== hasAccess(entitlement, usedAfter, creditsAfter);
