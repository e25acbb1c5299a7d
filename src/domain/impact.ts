// What an edit does to one customer's entitlement for one feature (docs/rules.md §9), as a
// preview says it: every effect that applies, from the observable views before and after
// (src/domain/changes.ts) and the usage after. Pure.
import type { EntitlementView } from "./changes.ts";

export type ImpactEffect = "GAINS_ACCESS" | "LOSES_ACCESS" | "LIMIT_RAISED" | "LIMIT_LOWERED" | "NOW_OVER_LIMIT" | "VALUE_CHANGED";

/** A view's limit as a number to compare: unlimited highest, no entitlement (or no limit) lowest. */
const limitOf = (view: EntitlementView | undefined) => (!view ? 0 : view.isUnlimited ? Number.POSITIVE_INFINITY : (view.usageLimit ?? 0));

const sameStaticValues = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, index) => value === b[index]);

/**
 * The effects of going from `before` to `after` (undefined: no active source), in the order
 * of the ImpactEffect enum; empty when nothing observable differs.
 */
export function impactEffects(before: EntitlementView | undefined, after: EntitlementView | undefined, usedAfter: number): ImpactEffect[] {
  const effects: ImpactEffect[] = [];
  const accessBefore = before?.hasAccess ?? false;
  const accessAfter = after?.hasAccess ?? false;
  if (!accessBefore && accessAfter) effects.push("GAINS_ACCESS");
  if (accessBefore && !accessAfter) effects.push("LOSES_ACCESS");
  const metered =
    (before?.usageLimit ?? null) !== null || before?.isUnlimited || (after?.usageLimit ?? null) !== null || after?.isUnlimited;
  const [limitBefore, limitAfter] = [limitOf(before), limitOf(after)];
  if (metered && limitAfter > limitBefore) effects.push("LIMIT_RAISED");
  if (metered && limitAfter < limitBefore) {
    effects.push("LIMIT_LOWERED");
    if (after && Number.isFinite(limitAfter) && usedAfter > limitAfter && usedAfter <= limitBefore) effects.push("NOW_OVER_LIMIT");
  }
  const otherwiseDifferent =
    before === undefined ||
    after === undefined ||
    before.isEnabled !== after.isEnabled ||
    before.isSoftLimit !== after.isSoftLimit ||
    before.resetPeriod !== after.resetPeriod ||
    !sameStaticValues(before.staticValues, after.staticValues);
  // An entitlement appearing or going says so by its other effects when it has any.
  const appearedOrWent = before === undefined || after === undefined;
  if (otherwiseDifferent && !(appearedOrWent && effects.length > 0)) effects.push("VALUE_CHANGED");
  return effects;
}
