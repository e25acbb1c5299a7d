// Catalog as code (docs/rules.md §9): the catalog as a JSON document — features, plans and
// add-ons, and what each plan gives, by key, with no ids — and what it takes to make a
// stored catalog match one. Pure: the document's shape (its format is checked by
// src/services/catalog-format.ts), the normal form both sides are compared in, and the changes.
import {
  checkEntitlementValue,
  checkFeatureLevels,
  type EntitlementValue,
  type FieldProblem,
  type FeatureLevel,
  type FeatureType,
  type ResetPeriod,
} from "./entitlement-value.ts";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A feature as the document gives it (src/services/catalog-format.ts checks the format). */
interface FeatureDocument {
  key: string;
  name: string;
  description?: string | null;
  type: FeatureType;
  unitSingular?: string | null;
  unitPlural?: string | null;
  levels?: { level: number; name: string; value: string; isUnlimited?: boolean }[];
  alertThresholds?: number[];
  metadata?: Json;
}

interface EntitlementDocument {
  featureKey: string;
  isEnabled?: boolean;
  usageLimit?: number | null;
  isUnlimited?: boolean;
  resetPeriod?: ResetPeriod | null;
  isSoftLimit?: boolean;
  staticValue?: string | null;
}

interface PlanDocument {
  key: string;
  name: string;
  description?: string | null;
  kind?: "PLAN" | "ADDON";
  metadata?: Json;
  entitlements?: EntitlementDocument[];
}

/** The document format applyCatalog takes and exportCatalog gives. */
export interface CatalogDocument {
  features?: FeatureDocument[];
  plans?: PlanDocument[];
}

/** A feature in normal form: every field set, levels lowest first, thresholds sorted and distinct. */
export interface NormalFeature {
  key: string;
  name: string;
  description: string | null;
  type: FeatureType;
  unitSingular: string | null;
  unitPlural: string | null;
  levels: FeatureLevel[];
  alertThresholds: number[];
  metadata: Json | null;
}

export interface NormalPlan {
  key: string;
  name: string;
  description: string | null;
  kind: "PLAN" | "ADDON";
  metadata: Json | null;
  /** By feature key. */
  entitlements: Map<string, EntitlementValue>;
}

/** What is stored, in normal form, archived entries included (they can be made active again). */
export interface StoredCatalog {
  features: (NormalFeature & { archived: boolean })[];
  plans: (NormalPlan & { archived: boolean })[];
}

type CatalogChangeAction = "CREATE" | "UPDATE" | "ARCHIVE";
type CatalogEntityKind = "FEATURE" | "PLAN" | "PLAN_ENTITLEMENT";
export interface CatalogChange {
  action: CatalogChangeAction;
  kind: CatalogEntityKind;
  /** The feature key, the plan key, or `planKey/featureKey`. */
  key: string;
  /** The fields that differ (UPDATE), or are set (CREATE). */
  fields: string[];
}

/** The document as a value and in normal form, or every problem in it, each naming its path. */
export type CheckedDocument = { ok: true; features: NormalFeature[]; plans: NormalPlan[] } | { ok: false; problems: FieldProblem[] };

/**
 * Checks a document (its format checked already) against the rules every create/set input
 * follows (levels, thresholds, entitlement values for their feature), and against the stored
 * catalog (a key's type or kind cannot change; an entitlement names a feature of the document
 * or the store).
 */
export function checkDocument(document: CatalogDocument, stored: StoredCatalog): CheckedDocument {
  const parsed = { data: document };
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const storedFeatures = new Map(stored.features.map((feature) => [feature.key, feature]));
  const storedPlans = new Map(stored.plans.map((plan) => [plan.key, plan]));

  const features: NormalFeature[] = [];
  const seenFeatures = new Set<string>();
  (parsed.data.features ?? []).forEach((feature, index) => {
    const at = `features.${index}`;
    if (seenFeatures.has(feature.key)) problem(`${at}.key`, `feature "${feature.key}" is given twice`);
    seenFeatures.add(feature.key);
    const known = storedFeatures.get(feature.key);
    if (known && known.type !== feature.type) problem(`${at}.type`, `"${feature.key}" is ${known.type}; a feature's type cannot change`);
    const levels = feature.levels?.map((level) => ({ ...level, isUnlimited: level.isUnlimited ?? false })) ?? [];
    const checkedLevels = checkFeatureLevels(levels);
    if (!checkedLevels.ok) for (const { field, message } of checkedLevels.problems) problem(`${at}.${field}`, message);
    const thresholds = feature.alertThresholds ?? [];
    if (thresholds.length > 0 && feature.type !== "METERED")
      problem(`${at}.alertThresholds`, `are for METERED features only; this one is ${feature.type}`);
    features.push({
      key: feature.key,
      name: feature.name,
      description: feature.description ?? null,
      type: feature.type,
      unitSingular: feature.unitSingular ?? null,
      unitPlural: feature.unitPlural ?? null,
      levels: checkedLevels.ok ? checkedLevels.levels : levels,
      alertThresholds: [...new Set(thresholds)].sort((a, b) => a - b),
      metadata: feature.metadata ?? null,
    });
  });

  const featureNamed = (name: string) => features.find((feature) => feature.key === name) ?? storedFeatures.get(name);
  const plans: NormalPlan[] = [];
  const seenPlans = new Set<string>();
  (parsed.data.plans ?? []).forEach((plan, index) => {
    const at = `plans.${index}`;
    if (seenPlans.has(plan.key)) problem(`${at}.key`, `plan "${plan.key}" is given twice`);
    seenPlans.add(plan.key);
    const kind = plan.kind ?? "PLAN";
    const known = storedPlans.get(plan.key);
    if (known && known.kind !== kind)
      problem(`${at}.kind`, `"${plan.key}" is a${known.kind === "ADDON" ? "n ADDON" : " PLAN"}; a plan's kind cannot change`);
    const entitlements = new Map<string, EntitlementValue>();
    for (const [entry, entitlement] of (plan.entitlements ?? []).entries()) {
      const here = `${at}.entitlements.${entry}`;
      const feature = featureNamed(entitlement.featureKey);
      if (!feature) {
        problem(`${here}.featureKey`, `no feature "${entitlement.featureKey}" in the document or the catalog`);
        continue;
      }
      if (entitlements.has(entitlement.featureKey)) {
        problem(`${here}.featureKey`, `"${entitlement.featureKey}" is given twice in this plan`);
        continue;
      }
      const { featureKey: _key, ...value } = entitlement;
      const checked = checkEntitlementValue(feature, value);
      if (!checked.ok) for (const { field, message } of checked.problems) problem(`${here}.${field}`, message);
      else entitlements.set(entitlement.featureKey, checked.value);
    }
    plans.push({
      key: plan.key,
      name: plan.name,
      description: plan.description ?? null,
      kind,
      metadata: plan.metadata ?? null,
      entitlements,
    });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, features, plans };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const FEATURE_FIELDS = ["name", "description", "unitSingular", "unitPlural", "levels", "alertThresholds", "metadata"] as const;
const PLAN_FIELDS = ["name", "description", "metadata"] as const;
const VALUE_FIELDS = ["isEnabled", "usageLimit", "isUnlimited", "resetPeriod", "isSoftLimit", "staticValue"] as const;

/**
 * The changes that make `stored` match the document, in the order they are applied:
 * features, plans, plan entitlements, then (with `archiveMissing`) what the document leaves
 * out, archived (a plan entitlement: removed). Nothing when they already match.
 */
export function catalogChanges(
  stored: StoredCatalog,
  document: { features: readonly NormalFeature[]; plans: readonly NormalPlan[] },
  archiveMissing: boolean,
): CatalogChange[] {
  const changes: CatalogChange[] = [];
  const storedFeatures = new Map(stored.features.map((feature) => [feature.key, feature]));
  const storedPlans = new Map(stored.plans.map((plan) => [plan.key, plan]));
  for (const feature of document.features) {
    const known = storedFeatures.get(feature.key);
    if (!known) {
      changes.push({ action: "CREATE", kind: "FEATURE", key: feature.key, fields: setFields(feature, ["type", ...FEATURE_FIELDS]) });
      continue;
    }
    const fields: string[] = FEATURE_FIELDS.filter((field) => !same(known[field], feature[field]));
    if (known.archived) fields.push("status");
    if (fields.length > 0) changes.push({ action: "UPDATE", kind: "FEATURE", key: feature.key, fields });
  }
  const entitlementChanges: CatalogChange[] = [];
  for (const plan of document.plans) {
    const known = storedPlans.get(plan.key);
    if (!known) {
      changes.push({ action: "CREATE", kind: "PLAN", key: plan.key, fields: setFields(plan, ["kind", ...PLAN_FIELDS]) });
    } else {
      const fields: string[] = PLAN_FIELDS.filter((field) => !same(known[field], plan[field]));
      if (known.archived) fields.push("status");
      if (fields.length > 0) changes.push({ action: "UPDATE", kind: "PLAN", key: plan.key, fields });
    }
    for (const [featureKey, value] of plan.entitlements) {
      const before = known?.entitlements.get(featureKey);
      const entry = `${plan.key}/${featureKey}`;
      if (!before)
        entitlementChanges.push({ action: "CREATE", kind: "PLAN_ENTITLEMENT", key: entry, fields: setFields(value, VALUE_FIELDS) });
      else {
        const fields = VALUE_FIELDS.filter((field) => before[field] !== value[field]);
        if (fields.length > 0) entitlementChanges.push({ action: "UPDATE", kind: "PLAN_ENTITLEMENT", key: entry, fields });
      }
    }
    if (archiveMissing && known) {
      for (const featureKey of known.entitlements.keys()) {
        if (!plan.entitlements.has(featureKey)) {
          entitlementChanges.push({ action: "ARCHIVE", kind: "PLAN_ENTITLEMENT", key: `${plan.key}/${featureKey}`, fields: [] });
        }
      }
    }
  }
  changes.push(...entitlementChanges);
  if (archiveMissing) {
    const planKeys = new Set(document.plans.map((plan) => plan.key));
    const featureKeys = new Set(document.features.map((feature) => feature.key));
    for (const plan of stored.plans) {
      if (!plan.archived && !planKeys.has(plan.key)) changes.push({ action: "ARCHIVE", kind: "PLAN", key: plan.key, fields: [] });
    }
    for (const feature of stored.features) {
      if (!feature.archived && !featureKeys.has(feature.key))
        changes.push({ action: "ARCHIVE", kind: "FEATURE", key: feature.key, fields: [] });
    }
  }
  return changes;
}

/** The fields of `entry` that hold something (not null, not empty). */
function setFields<T extends object>(entry: T, fields: readonly (keyof T & string)[]): string[] {
  return fields.filter((field) => {
    const value = entry[field];
    return value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
  });
}

/** The stored catalog as a document (active entries only): what exportCatalog prints, and applying it changes nothing. */
export function documentOf(stored: StoredCatalog): CatalogDocument {
  const withoutEmpty = <T extends object>(entry: T) =>
    Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== null && !(Array.isArray(value) && value.length === 0))) as T;
  return {
    features: stored.features
      .filter((feature) => !feature.archived)
      .map(({ archived: _archived, ...feature }) => withoutEmpty(feature) as FeatureDocument),
    plans: stored.plans
      .filter((plan) => !plan.archived)
      .map(({ archived: _archived, entitlements, ...plan }) => ({
        ...(withoutEmpty(plan) as Omit<PlanDocument, "entitlements">),
        entitlements: [...entitlements]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([featureKey, value]) => withoutEmpty({ featureKey, ...value })),
      })),
  };
}

/** The stored catalog once the document is applied (what a dry run answers as `catalog`). */
export function catalogAfter(
  stored: StoredCatalog,
  document: { features: readonly NormalFeature[]; plans: readonly NormalPlan[] },
  archiveMissing: boolean,
): StoredCatalog {
  const featureKeys = new Set(document.features.map((feature) => feature.key));
  const planKeys = new Set(document.plans.map((plan) => plan.key));
  const features = [
    ...stored.features
      .filter((feature) => !featureKeys.has(feature.key))
      .map((feature) => ({ ...feature, archived: feature.archived || archiveMissing })),
    ...document.features.map((feature) => ({ ...feature, archived: false })),
  ];
  const plans = [
    ...stored.plans.filter((plan) => !planKeys.has(plan.key)).map((plan) => ({ ...plan, archived: plan.archived || archiveMissing })),
    ...document.plans.map((plan) => {
      const known = stored.plans.find((entry) => entry.key === plan.key);
      const kept = archiveMissing || !known ? [] : [...known.entitlements].filter(([featureKey]) => !plan.entitlements.has(featureKey));
      return { ...plan, entitlements: new Map([...kept, ...plan.entitlements]), archived: false };
    }),
  ];
  const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return { features: features.sort(byKey), plans: plans.sort(byKey) };
}
