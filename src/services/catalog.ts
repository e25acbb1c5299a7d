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
import { notRemovedWhere } from "../db/rules-in-sql.ts";
import type { Feature, Plan, PlanEntitlement, Prisma } from "../generated/prisma/client.ts";
import { storedValue } from "../loaders/customer-state.ts";
import { alreadyExists, invalidOperation, notFound, validationFailed, type FieldProblem } from "../errors.ts";
import { fanOutFeatureChange, fanOutPlanChange } from "./changes.ts";
import { invalidatingWrite, type ProjectScope } from "./scope.ts";

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
  metadata?: Json | null;
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

const catalogWrite = <T>(scope: ProjectScope, write: () => Promise<T>) => invalidatingWrite(scope, { catalog: true }, write);

export async function createFeature(
  scope: ProjectScope,
  input: FeatureInput & { key: string; name: string; type: Feature["type"] },
): Promise<Feature> {
  const create = () =>
    scope.prisma.feature.create({
      data: {
        projectId: scope.projectId,
        key: input.key,
        name: input.name,
        description: input.description ?? null,
        type: input.type,
        unitSingular: input.unitSingular ?? null,
        unitPlural: input.unitPlural ?? null,
        levels: normalisedLevels(input.levels) ?? [],
        metadata: input.metadata ?? undefined,
      },
    });
  return refusingDuplicates(
    () => catalogWrite(scope, create),
    () => alreadyExists("feature", "input.key", input.key),
  );
}

export async function updateFeature(scope: ProjectScope, input: FeatureInput & { id: string }): Promise<Feature> {
  const before = await ownedFeature(scope, input.id, "input.id");
  const saved = await catalogWrite(scope, () =>
    scope.prisma.feature.update({
      where: { id: input.id },
      data: {
        name: input.name ?? undefined,
        description: input.description,
        unitSingular: input.unitSingular,
        unitPlural: input.unitPlural,
        levels: normalisedLevels(input.levels),
        metadata: input.metadata ?? undefined,
      },
    }),
  );
  // Levels rank a customer's staticValues (docs/rules.md §4): those it reorders are told (§6).
  if (JSON.stringify(featureLevels(before)) !== JSON.stringify(featureLevels(saved))) {
    afterResponse(scope, fanOutFeatureChange(scope, { projectId: scope.projectId, before }), { featureId: before.id });
  }
  return saved;
}

/** Stops the feature being added anywhere new; what already uses it keeps working. */
export async function archiveFeature(scope: ProjectScope, id: string): Promise<Feature> {
  await ownedFeature(scope, id, "id");
  return catalogWrite(scope, () => scope.prisma.feature.update({ where: { id }, data: { status: "ARCHIVED" } }));
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
    scope.prisma.plan.create({
      data: {
        projectId: scope.projectId,
        key: input.key,
        name: input.name,
        description: input.description ?? null,
        kind: input.kind ?? "PLAN",
        metadata: input.metadata ?? undefined,
      },
    });
  return refusingDuplicates(
    () => catalogWrite(scope, create),
    () => alreadyExists("plan", "input.key", input.key),
  );
}

export async function updatePlan(scope: ProjectScope, input: PlanInput & { id: string }): Promise<Plan> {
  await ownedPlan(scope, input.id, "input.id");
  return catalogWrite(scope, () =>
    scope.prisma.plan.update({
      where: { id: input.id },
      data: { name: input.name ?? undefined, description: input.description, metadata: input.metadata ?? undefined },
    }),
  );
}

/** Stops the plan being subscribed to or added anew; existing subscriptions keep it. */
export async function archivePlan(scope: ProjectScope, id: string): Promise<Plan> {
  await ownedPlan(scope, id, "id");
  return catalogWrite(scope, () => scope.prisma.plan.update({ where: { id }, data: { status: "ARCHIVED" } }));
}

/** Lets a catalog fan-out run after the response: its failure is logged, never the request's. */
const afterResponse = (scope: ProjectScope, fanOut: Promise<number>, about: Record<string, string>) =>
  void fanOut.catch((error: unknown) => scope.log.error({ err: error, ...about }, "catalog change fan-out failed"));

/** Tells the plan's customers what the edit changed, after the response, in batches. */
function announcePlanChange(scope: ProjectScope, planId: string, featureId: string, before: EntitlementValue | null) {
  afterResponse(scope, fanOutPlanChange(scope, { projectId: scope.projectId, planId, featureId, before }), { planId });
}

/** Creates or replaces what the plan gives for the feature. */
export async function setPlanEntitlement(
  scope: ProjectScope,
  input: EntitlementValueInput & { planId: string; featureKey: string },
): Promise<PlanEntitlement> {
  const plan = await ownedPlan(scope, input.planId, "input.planId");
  const feature = await featureByKey(scope, input.featureKey, "input.featureKey");
  const where = { planId_featureId: { planId: plan.id, featureId: feature.id } };
  const existing = await scope.prisma.planEntitlement.findUnique({ where });
  const inForce = existing && !existing.removedAt ? existing : null;
  requireUsableFeature(feature, inForce !== null, "added to a plan", "input.featureKey");
  const value = requireCompleteValue(feature, pickValue(input));
  const saved = await catalogWrite(scope, () =>
    scope.prisma.planEntitlement.upsert({
      where,
      create: { planId: plan.id, featureId: feature.id, ...value },
      update: { ...value, removedAt: null },
    }),
  );
  announcePlanChange(scope, plan.id, feature.id, inForce ? storedValue(inForce) : null);
  return saved;
}

/** Removes what the plan gives for the feature; returns the plan. */
export async function removePlanEntitlement(scope: ProjectScope, input: { planId: string; featureKey: string }): Promise<Plan> {
  const plan = await ownedPlan(scope, input.planId, "planId");
  const feature = await featureByKey(scope, input.featureKey, "featureKey");
  const existing = await scope.prisma.planEntitlement.findFirst({ where: { planId: plan.id, featureId: feature.id, ...notRemovedWhere } });
  if (!existing) throw notFound(`Plan "${plan.key}" has no entitlement for feature`, "featureKey", feature.key);
  await catalogWrite(scope, () => scope.prisma.planEntitlement.update({ where: { id: existing.id }, data: { removedAt: new Date() } }));
  announcePlanChange(scope, plan.id, feature.id, storedValue(existing));
  return plan;
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
