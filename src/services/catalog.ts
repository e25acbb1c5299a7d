// The catalog: features, plans and add-ons, and what each plan gives per feature. Its rules
// (keys unique per project, archived things not used anew, complete values) and its writes.
import {
  checkEntitlementValue,
  checkFeatureLevels,
  mergeEntitlementValue,
  type EntitlementValue,
  type EntitlementValueInput,
  type FeatureLevel,
} from "../domain/entitlement-value.ts";
import { refusingDuplicates } from "../db/errors.ts";
import type { Feature, Plan, PlanEntitlement, Prisma } from "../generated/prisma/client.ts";
import { storedValue } from "../loaders/customer-state.ts";
import { alreadyExists, invalidOperation, notFound, validationFailed, type FieldProblem } from "../errors.ts";
import { queueEventJob, type EventJobInput } from "./event-jobs.ts";
import type { Transaction } from "./changes.ts";
import { invalidatingWrite, type ProjectScope } from "./scope.ts";
import { auditWrite, type Audited } from "./audit.ts";

type Json = Prisma.InputJsonValue;

export const featureLevels = (feature: Pick<Feature, "levels">): FeatureLevel[] =>
  (feature.levels as unknown as FeatureLevel[] | null) ?? [];

const featureRules = (feature: Feature) => ({ key: feature.key, type: feature.type, levels: featureLevels(feature) });

/** Problems found in `input.*` fields, as one VALIDATION_ERROR naming each. */
const inputProblems = (problems: readonly FieldProblem[]) =>
  validationFailed(problems.map((problem) => ({ ...problem, field: `input.${problem.field}` })));

/** The feature with this key in the scope's project, or NOT_FOUND naming `field`. */
export async function featureByKey(scope: ProjectScope, key: string, field: string): Promise<Feature> {
  const feature = await scope.loaders.featureByKey.load(key);
  if (!feature) throw notFound("Feature", field, key);
  return feature;
}

/**
 * An archived feature keeps working where it is used, but is not used anew: `alreadyUsed`
 * says whether this use exists (and is being edited) rather than created.
 */
export function requireUsableFeature(
  feature: Feature,
  alreadyUsed: boolean,
  use: "added to a plan" | "overridden" | "granted",
  field: string,
) {
  if (feature.status === "ARCHIVED" && !alreadyUsed) {
    throw invalidOperation(`Feature "${feature.key}" is archived and cannot be ${use} anew`, field);
  }
}

/** Checks a complete value (plan entitlement, grant) for the feature, or throws VALIDATION_ERROR on `input.*`. */
export function requireCompleteValue(feature: Feature, input: EntitlementValueInput): EntitlementValue {
  const checked = checkEntitlementValue(featureRules(feature), input);
  if (!checked.ok) throw inputProblems(checked.problems);
  return checked.value;
}

/** Checks an override's value: its own fields over the plan's, complete together. */
export function requireOverridableValue(feature: Feature, planValue: EntitlementValue | null, given: EntitlementValueInput) {
  const checked = checkEntitlementValue(featureRules(feature), mergeEntitlementValue(planValue, given));
  if (!checked.ok) throw inputProblems(checked.problems);
}

/** A feature's own fields as a service takes them. */
export interface FeatureInput {
  name?: string | null;
  description?: string | null;
  unitSingular?: string | null;
  unitPlural?: string | null;
  levels?: readonly { level: number; name: string; value: string; isUnlimited?: boolean | null }[] | null;
  alertThresholds?: readonly number[] | null;
  metadata?: Json | null;
}

/** The most alert thresholds a feature may have. */
const MAX_ALERT_THRESHOLDS = 10;

/** A METERED feature's thresholds, distinct and in order; refused for other types or out of (0, 1000]. */
function checkedThresholds(type: Feature["type"], thresholds: FeatureInput["alertThresholds"]): number[] | undefined {
  if (thresholds === null || thresholds === undefined) return undefined;
  const field = "input.alertThresholds";
  if (thresholds.length > 0 && type !== "METERED")
    throw inputProblems([{ field: "alertThresholds", message: `are for METERED features only; this one is ${type}` }]);
  if (thresholds.length > MAX_ALERT_THRESHOLDS)
    throw validationFailed([{ field, message: `may hold at most ${MAX_ALERT_THRESHOLDS} thresholds` }]);
  thresholds.forEach((threshold, index) => {
    if (!(threshold > 0 && threshold <= 1000)) {
      throw validationFailed([{ field: `${field}.${index}`, message: "must be a percentage of the usage limit in (0, 1000]" }]);
    }
  });
  return [...new Set(thresholds)].sort((a, b) => a - b);
}

function normalisedLevels(levels: FeatureInput["levels"]): Json | undefined {
  if (!levels) return undefined;
  const checked = checkFeatureLevels(levels.map((level) => ({ ...level, isUnlimited: level.isUnlimited ?? false })));
  if (!checked.ok) throw inputProblems(checked.problems);
  return checked.levels as unknown as Json;
}

/** The feature with this id in the scope's project, or NOT_FOUND. */
async function ownedFeature(scope: ProjectScope, id: string, field: string): Promise<Feature> {
  const feature = await scope.prisma.feature.findFirst({ where: { id, projectId: scope.projectId } });
  if (!feature) throw notFound("Feature", field);
  return feature;
}

/**
 * A catalog write in one transaction with the durable fan-out job it may queue (its events
 * are logged by the job runner, after the response, on whichever instance takes the job).
 */
async function catalogWrite<T>(
  scope: ProjectScope,
  write: (tx: Transaction) => Promise<{ result: T; job?: EventJobInput }>,
  audited: Audited<T>,
): Promise<T> {
  let queued = false;
  const result = await invalidatingWrite(scope, { catalog: true }, () =>
    scope.prisma.$transaction(async (tx) => {
      const { result, job } = await write(tx);
      await auditWrite(tx, audited, result);
      if (job) {
        await queueEventJob(tx, job);
        queued = true;
      }
      return result;
    }),
  );
  if (queued) scope.events.jobQueued();
  return result;
}

/** A catalog write that changes no customer's entitlements. */
const plainCatalogWrite = <T>(scope: ProjectScope, write: (tx: Transaction) => Promise<T>, audited: Audited<T>) =>
  catalogWrite(scope, async (tx) => ({ result: await write(tx) }), audited);

export async function createFeature(
  scope: ProjectScope,
  input: FeatureInput & { key: string; name: string; type: Feature["type"] },
): Promise<Feature> {
  const create = () =>
    plainCatalogWrite(
      scope,
      (tx) =>
        tx.feature.create({
          data: {
            projectId: scope.projectId,
            key: input.key,
            name: input.name,
            description: input.description ?? null,
            type: input.type,
            unitSingular: input.unitSingular ?? null,
            unitPlural: input.unitPlural ?? null,
            levels: normalisedLevels(input.levels) ?? [],
            alertThresholds: checkedThresholds(input.type, input.alertThresholds) ?? [],
            metadata: input.metadata ?? undefined,
          },
        }),
      "Feature",
    );
  return refusingDuplicates(create, () => alreadyExists("feature", "input.key", input.key));
}

export async function updateFeature(scope: ProjectScope, input: FeatureInput & { id: string }): Promise<Feature> {
  const found = await ownedFeature(scope, input.id, "input.id");
  const levels = normalisedLevels(input.levels);
  const alertThresholds = checkedThresholds(found.type, input.alertThresholds);
  return catalogWrite(
    scope,
    async (tx) => {
      // The feature as this edit changes it: concurrent edits of it queue here.
      await lockCatalogEntry(tx, `feature:${found.id}`);
      const before = await tx.feature.findUniqueOrThrow({ where: { id: found.id } });
      const saved = await tx.feature.update({
        where: { id: input.id },
        data: {
          name: input.name ?? undefined,
          description: input.description,
          unitSingular: input.unitSingular,
          unitPlural: input.unitPlural,
          levels,
          alertThresholds,
          metadata: input.metadata ?? undefined,
        },
      });
      // Levels rank a customer's staticValues (docs/rules.md §4): those it reorders are told (§6).
      if (JSON.stringify(featureLevels(before)) !== JSON.stringify(featureLevels(saved))) {
        const asJson = (feature: Feature) => JSON.parse(JSON.stringify(feature));
        return { result: saved, job: { kind: "feature", projectId: scope.projectId, before: asJson(before), after: asJson(saved) } };
      }
      return { result: saved };
    },
    "Feature",
  );
}

/** Stops the feature being added anywhere new; what already uses it keeps working. */
export async function archiveFeature(scope: ProjectScope, id: string): Promise<Feature> {
  await ownedFeature(scope, id, "id");
  return plainCatalogWrite(scope, (tx) => tx.feature.update({ where: { id }, data: { status: "ARCHIVED" } }), "Feature");
}

/** The plan with this id in the scope's project, or NOT_FOUND naming `field`. */
async function ownedPlan(scope: ProjectScope, id: string, field: string): Promise<Plan> {
  const plan = await scope.prisma.plan.findFirst({ where: { id, projectId: scope.projectId } });
  if (!plan) throw notFound("Plan", field);
  return plan;
}

/** A plan that is about to be used anew (subscribed to, added): it must be ACTIVE and of `kind`. */
export async function usablePlan(scope: ProjectScope, id: string, field: string, kind: Plan["kind"]): Promise<Plan> {
  const plan = await ownedPlan(scope, id, field);
  if (plan.kind !== kind) {
    throw invalidOperation(`${field} must be ${kind === "PLAN" ? "a base plan" : "an add-on"}; "${plan.key}" is a ${plan.kind}`, field);
  }
  if (plan.status === "ARCHIVED") throw invalidOperation(`Plan "${plan.key}" is archived and cannot be used anew`, field);
  return plan;
}

export interface PlanInput {
  name?: string | null;
  description?: string | null;
  metadata?: Json | null;
}

export async function createPlan(
  scope: ProjectScope,
  input: PlanInput & { key: string; name: string; kind?: Plan["kind"] | null },
): Promise<Plan> {
  const create = () =>
    plainCatalogWrite(
      scope,
      (tx) =>
        tx.plan.create({
          data: {
            projectId: scope.projectId,
            key: input.key,
            name: input.name,
            description: input.description ?? null,
            kind: input.kind ?? "PLAN",
            metadata: input.metadata ?? undefined,
          },
        }),
      "Plan",
    );
  return refusingDuplicates(create, () => alreadyExists("plan", "input.key", input.key));
}

export async function updatePlan(scope: ProjectScope, input: PlanInput & { id: string }): Promise<Plan> {
  await ownedPlan(scope, input.id, "input.id");
  return plainCatalogWrite(
    scope,
    (tx) =>
      tx.plan.update({
        where: { id: input.id },
        data: { name: input.name ?? undefined, description: input.description, metadata: input.metadata ?? undefined },
      }),
    "Plan",
  );
}

/** Stops the plan being subscribed to or added anew; existing subscriptions keep it. */
export async function archivePlan(scope: ProjectScope, id: string): Promise<Plan> {
  await ownedPlan(scope, id, "id");
  return plainCatalogWrite(scope, (tx) => tx.plan.update({ where: { id }, data: { status: "ARCHIVED" } }), "Plan");
}

/** The job that tells the plan's customers what an edit of its entitlement for the feature changed (from `before` to `after`). */
const planChangeJob = (
  scope: ProjectScope,
  planId: string,
  featureId: string,
  before: EntitlementValue | null,
  after: EntitlementValue | null,
): EventJobInput => ({ kind: "plan-entitlement", projectId: scope.projectId, planId, featureId, before, after });

/** Creates or replaces what the plan gives for the feature. */
export async function setPlanEntitlement(
  scope: ProjectScope,
  input: EntitlementValueInput & { planId: string; featureKey: string },
): Promise<PlanEntitlement> {
  const plan = await ownedPlan(scope, input.planId, "input.planId");
  const feature = await featureByKey(scope, input.featureKey, "input.featureKey");
  const where = { planId_featureId: { planId: plan.id, featureId: feature.id } };
  return catalogWrite(
    scope,
    async (tx) => {
      const inForce = await planEntitlementInForce(tx, plan.id, feature.id);
      requireUsableFeature(feature, inForce !== null, "added to a plan", "input.featureKey");
      const value = requireCompleteValue(feature, pickValue(input));
      const saved = await tx.planEntitlement.upsert({
        where,
        create: { planId: plan.id, featureId: feature.id, ...value },
        update: { ...value, removedAt: null },
      });
      return { result: saved, job: planChangeJob(scope, plan.id, feature.id, inForce && storedValue(inForce), storedValue(saved)) };
    },
    "PlanEntitlement",
  );
}

/** Removes what the plan gives for the feature; returns the plan. */
export async function removePlanEntitlement(scope: ProjectScope, input: { planId: string; featureKey: string }): Promise<Plan> {
  const plan = await ownedPlan(scope, input.planId, "planId");
  const feature = await featureByKey(scope, input.featureKey, "featureKey");
  await catalogWrite(
    scope,
    async (tx) => {
      const existing = await planEntitlementInForce(tx, plan.id, feature.id);
      if (!existing) throw notFound(`Plan "${plan.key}" has no entitlement for feature`, "featureKey", feature.key);
      return {
        result: await tx.planEntitlement.update({ where: { id: existing.id }, data: { removedAt: new Date() } }),
        job: planChangeJob(scope, plan.id, feature.id, storedValue(existing), null),
      };
    },
    "PlanEntitlement",
  );
  return plan;
}

/**
 * What setPlanEntitlement (or, with `remove`, removePlanEntitlement) would change, checked
 * as they check it and naming the same fields, writing nothing: the plan entitlement's value
 * in force now and after.
 */
export async function plannedPlanEntitlementEdit(
  scope: ProjectScope,
  input: Partial<EntitlementValueInput> & { planId: string; featureKey: string },
  remove: boolean,
) {
  const field = (name: string) => (remove ? name : `input.${name}`);
  const plan = await ownedPlan(scope, input.planId, field("planId"));
  const feature = await featureByKey(scope, input.featureKey, field("featureKey"));
  const existing = await scope.prisma.planEntitlement.findUnique({
    where: { planId_featureId: { planId: plan.id, featureId: feature.id } },
  });
  const inForce = existing && !existing.removedAt ? existing : null;
  const edit = { planId: plan.id, featureId: feature.id, featureKey: feature.key, before: inForce && storedValue(inForce) };
  if (remove) {
    if (!inForce) throw notFound(`Plan "${plan.key}" has no entitlement for feature`, "featureKey", feature.key);
    return { ...edit, after: null };
  }
  requireUsableFeature(feature, inForce !== null, "added to a plan", "input.featureKey");
  return { ...edit, after: requireCompleteValue(feature, pickValue(input)) };
}

/** Serialises the edits of one catalog entry until the transaction ends: each reads the value the previous one left. */
const lockCatalogEntry = (tx: Transaction, key: string) => tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;

/** What the plan gives for the feature now (null: nothing in force), read under the entry's lock. */
async function planEntitlementInForce(tx: Transaction, planId: string, featureId: string) {
  await lockCatalogEntry(tx, `plan-entitlement:${planId}:${featureId}`);
  const existing = await tx.planEntitlement.findUnique({ where: { planId_featureId: { planId, featureId } } });
  return existing && !existing.removedAt ? existing : null;
}

/** The value fields of an input, and nothing else of it. */
export const pickValue = (input: EntitlementValueInput): EntitlementValueInput => ({
  isEnabled: input.isEnabled,
  usageLimit: input.usageLimit,
  isUnlimited: input.isUnlimited,
  resetPeriod: input.resetPeriod,
  isSoftLimit: input.isSoftLimit,
  staticValue: input.staticValue,
});
