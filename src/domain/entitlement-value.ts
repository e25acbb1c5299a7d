// What a plan entitlement, a subscription override or a grant gives for one feature, and
// the rules that make such a value complete and meaningful for the feature's type.

/** What is wrong with one input field, named by its path (e.g. `usageLimit`). */
export interface FieldProblem {
  field: string;
  message: string;
}

export type FeatureType = "BOOLEAN" | "METERED" | "STATIC";
export type ResetPeriod = "DAILY" | "WEEKLY" | "MONTHLY" | "QUARTERLY" | "HALF_YEARLY" | "ANNUAL" | "NEVER";

export interface FeatureLevel {
  level: number;
  name: string;
  value: string;
  isUnlimited: boolean;
}

export interface EntitlementValue {
  isEnabled: boolean;
  /** METERED: per unit of quantity; null with isUnlimited, or when disabled without a limit. */
  usageLimit: number | null;
  isUnlimited: boolean;
  resetPeriod: ResetPeriod | null;
  isSoftLimit: boolean;
  staticValue: string | null;
}

/** As given by a caller: anything may be missing. */
export type EntitlementValueInput = { [K in keyof EntitlementValue]?: EntitlementValue[K] | null };

export interface FeatureShape {
  key: string;
  type: FeatureType;
  levels: readonly FeatureLevel[];
}

const DEFAULT_RESET_PERIOD: ResetPeriod = "MONTHLY";
export const MAX_STATIC_VALUE_LENGTH = 500;
/**
 * The largest limit a caller may set, per unit of quantity. Doubles hold every integer up to
 * 2^53 (about 9e15), so a limit up to here is kept exactly, and so is limit × quantity while
 * it stays below 2^53; larger products and sums are answered as computed in doubles.
 */
const MAX_USAGE_LIMIT = 1e15;

const METERED_ONLY = ["usageLimit", "isUnlimited", "resetPeriod", "isSoftLimit"] as const;

const given = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/** Fields given in `input` replace those of `base`; a limit and unlimited replace each other. */
export function mergeEntitlementValue(base: EntitlementValue | null, input: EntitlementValueInput): EntitlementValueInput {
  const merged: EntitlementValueInput = { ...(base ?? {}) };
  for (const [field, value] of Object.entries(input) as [keyof EntitlementValue, unknown][]) {
    if (given(value)) (merged as Record<string, unknown>)[field] = value;
  }
  if (given(input.usageLimit) && !given(input.isUnlimited)) merged.isUnlimited = false;
  if (input.isUnlimited === true && !given(input.usageLimit)) merged.usageLimit = null;
  return merged;
}

/** Why `limit` cannot be a usage limit (whole or fractional: GB, hours), or undefined when it can. */
/** What is wrong with a CREDIT's amount (docs/rules.md §8): more than 0, at most 1e15. */
export function creditAmountProblem(amount: number | null | undefined): string | undefined {
  if (amount === null || amount === undefined) return "is required for a CREDIT grant";
  return usageLimitProblem(amount) ?? (amount > 0 ? undefined : "must be more than 0");
}

function usageLimitProblem(limit: number): string | undefined {
  if (!Number.isFinite(limit)) return "must be a finite number";
  if (limit < 0) return "must be at least 0";
  if (limit > MAX_USAGE_LIMIT) return "must be at most 1e15";
  return undefined;
}

export type CheckedValue = { ok: true; value: EntitlementValue } | { ok: false; problems: FieldProblem[] };

/**
 * Checks that `input` is a complete, meaningful value for `feature` and normalises it.
 * A METERED value needs a usageLimit or isUnlimited (a forgotten limit must not silently
 * mean unlimited); a STATIC one needs a staticValue, one of the feature's levels if it has any.
 */
export function checkEntitlementValue(feature: FeatureShape, input: EntitlementValueInput): CheckedValue {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const isEnabled = input.isEnabled ?? true;

  if (feature.type !== "METERED") {
    for (const field of METERED_ONLY) {
      if (given(input[field]) && !(field !== "usageLimit" && input[field] === false)) {
        problem(field, `only METERED features take ${field}; "${feature.key}" is ${feature.type}`);
      }
    }
  }
  if (feature.type !== "STATIC" && given(input.staticValue)) {
    problem("staticValue", `only STATIC features take staticValue; "${feature.key}" is ${feature.type}`);
  }

  if (feature.type === "METERED") {
    const { usageLimit, isUnlimited } = input;
    const limitProblem = given(usageLimit) ? usageLimitProblem(usageLimit) : undefined;
    if (limitProblem) problem("usageLimit", limitProblem);
    if (given(usageLimit) && isUnlimited === true) {
      problem("usageLimit", "give either usageLimit or isUnlimited: true, not both");
    }
    if (isEnabled && !given(usageLimit) && isUnlimited !== true) {
      problem("usageLimit", `a METERED entitlement needs a usageLimit, or isUnlimited: true`);
    }
  }

  if (feature.type === "STATIC") {
    const { staticValue } = input;
    if (given(staticValue)) {
      if (staticValue.length === 0 || staticValue.length > MAX_STATIC_VALUE_LENGTH) {
        problem("staticValue", `must be 1 to ${MAX_STATIC_VALUE_LENGTH} characters`);
      } else if (feature.levels.length > 0 && !feature.levels.some((level) => level.value === staticValue)) {
        const values = feature.levels.map((level) => level.value).join(", ");
        problem("staticValue", `must be one of the levels of "${feature.key}": ${values}`);
      }
    } else if (isEnabled) {
      problem("staticValue", "an enabled STATIC entitlement needs a staticValue");
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  const metered = feature.type === "METERED";
  const isUnlimited = metered && input.isUnlimited === true;
  return {
    ok: true,
    value: {
      isEnabled,
      usageLimit: metered && !isUnlimited ? (input.usageLimit ?? null) : null,
      isUnlimited,
      resetPeriod: metered ? (input.resetPeriod ?? DEFAULT_RESET_PERIOD) : null,
      isSoftLimit: metered && input.isSoftLimit === true,
      staticValue: feature.type === "STATIC" ? (input.staticValue ?? null) : null,
    },
  };
}

/**
 * An override's value: its own fields, the rest inherited from the plan entitlement it
 * replaces. Missing pieces fall back to the safe side (no allowance, not unlimited).
 */
export function resolveOverrideValue(
  feature: FeatureShape,
  override: EntitlementValueInput,
  planValue: EntitlementValue | null,
): EntitlementValue {
  const merged = mergeEntitlementValue(planValue, override);
  const metered = feature.type === "METERED";
  const isUnlimited = metered && merged.isUnlimited === true;
  return {
    isEnabled: merged.isEnabled ?? true,
    usageLimit: metered && !isUnlimited ? (merged.usageLimit ?? 0) : null,
    isUnlimited,
    resetPeriod: metered ? (merged.resetPeriod ?? DEFAULT_RESET_PERIOD) : null,
    isSoftLimit: metered && merged.isSoftLimit === true,
    staticValue: feature.type === "STATIC" ? (merged.staticValue ?? null) : null,
  };
}

/** Levels are kept lowest first; levels must be distinct. */
export function checkFeatureLevels(
  levels: readonly FeatureLevel[],
): { ok: true; levels: FeatureLevel[] } | { ok: false; problems: FieldProblem[] } {
  const seen = new Set<number>();
  const values = new Set<string>();
  const problems: FieldProblem[] = [];
  levels.forEach((level, index) => {
    if (seen.has(level.level)) problems.push({ field: `levels.${index}.level`, message: `level ${level.level} is given twice` });
    if (values.has(level.value)) problems.push({ field: `levels.${index}.value`, message: `value "${level.value}" is given twice` });
    seen.add(level.level);
    values.add(level.value);
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, levels: [...levels].sort((a, b) => a.level - b.level) };
}
