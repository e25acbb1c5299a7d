// Plans and add-ons, and what each gives per feature (PlanEntitlement).
import { builder } from "./builder.ts";
import { CatalogStatusEnum, PlanKindEnum } from "./enums.ts";
import { FeatureNode, featureByKey } from "./feature.ts";
import { catalogKey, globalId, longText, text } from "./inputs.ts";
import { entitlementValueInputFields, entitlementValueOutputFields, pickValueInput, requireCompleteValue } from "./entitlement-value.ts";
import { cachedRowsWrite, projectIdOf, type Context } from "../context.ts";
import { alreadyExists, invalidOperation, notFound } from "../errors.ts";
import { byIdOrKey, foundOrThrow } from "./lookup.ts";
import { uniqueViolationFields } from "../db/errors.ts";
import type { Plan, Prisma } from "../generated/prisma/client.ts";
import type { EntitlementValue } from "../domain/entitlement-value.ts";
import { fanOutPlanChange } from "../events/track.ts";
import { valueOf } from "../loaders/customer-state.ts";

export const PlanNode = builder.prismaNode("Plan", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    key: t.exposeString("key"),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    kind: t.expose("kind", { type: PlanKindEnum }),
    status: t.expose("status", { type: CatalogStatusEnum }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    entitlements: t.relation("entitlements", {
      query: { where: { removedAt: null }, orderBy: { feature: { key: "asc" } } },
    }),
  }),
});

export const PlanConnection = builder.connectionObject({ type: PlanNode, name: "PlanConnection" }, { name: "PlanEdge" });

const PlanEntitlementNode = builder.prismaNode("PlanEntitlement", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, removedAt: null, plan: { projectId: projectIdOf(context) } }),
  description: "What one plan or add-on gives for one feature (per unit of quantity).",
  fields: (t) => ({
    plan: t.relation("plan"),
    feature: t.relation("feature"),
  }),
});
builder.objectFields(PlanEntitlementNode, (t) => entitlementValueOutputFields(t, (entitlement) => entitlement));

/** The plan with this id in the caller's project, or NOT_FOUND naming `field`. */
export async function ownedPlan(context: Context, id: string, field: string): Promise<Plan> {
  const plan = await context.prisma.plan.findFirst({ where: { id, projectId: projectIdOf(context) } });
  if (!plan) throw notFound("Plan", field);
  return plan;
}

/** A plan that is about to be used anew (subscribed to, added): it must be ACTIVE and of `kind`. */
export async function usablePlan(context: Context, id: string, field: string, kind: Plan["kind"]): Promise<Plan> {
  const plan = await ownedPlan(context, id, field);
  if (plan.kind !== kind) {
    throw invalidOperation(`${field} must be ${kind === "PLAN" ? "a base plan" : "an add-on"}; "${plan.key}" is a ${plan.kind}`, field);
  }
  if (plan.status === "ARCHIVED") throw invalidOperation(`Plan "${plan.key}" is archived and cannot be used anew`, field);
  return plan;
}

/** Tells the plan's customers what the edit changed, after the response, in batches. */
function announcePlanChange(context: Context, planId: string, featureId: string, before: EntitlementValue | null) {
  fanOutPlanChange(context, { projectId: projectIdOf(context), planId, featureId, before }).catch((error: unknown) =>
    context.log.error({ err: error, planId }, "catalog change fan-out failed"),
  );
}

const planFilter = (
  args: { kind?: Plan["kind"] | null; status?: Plan["status"] | null },
  context: Context,
): Prisma.PlanWhereInput => ({
  projectId: projectIdOf(context),
  ...(args.kind ? { kind: args.kind } : {}),
  ...(args.status ? { status: args.status } : {}),
});

builder.prismaObjectField(FeatureNode, "plans", (t) =>
  t.prismaConnection(
    {
      type: "Plan",
      cursor: "id",
      authScopes: { read: true },
      description: "Plans and add-ons that include this feature.",
      resolve: (query, feature, _args, context) =>
        context.prisma.plan.findMany({
          ...query,
          where: { projectId: projectIdOf(context), entitlements: { some: { featureId: feature.id, removedAt: null } } },
        }),
      totalCount: (feature, _args, context) =>
        context.prisma.plan.count({
          where: { projectId: projectIdOf(context), entitlements: { some: { featureId: feature.id, removedAt: null } } },
        }),
    },
    PlanConnection,
  ),
);

const CreatePlanInput = builder.inputType("CreatePlanInput", {
  fields: (t) => ({
    key: t.string({ required: true }).validate(catalogKey),
    name: t.string({ required: true }).validate(text(200)),
    description: t.string().validate(longText(2000).nullish()),
    kind: t.field({ type: PlanKindEnum }),
    metadata: t.field({ type: "JSON" }),
  }),
});

const UpdatePlanInput = builder.inputType("UpdatePlanInput", {
  fields: (t) => ({
    id: t.id({ required: true }).validate(globalId("Plan")),
    name: t.string().validate(text(200).nullish()),
    description: t.string().validate(longText(2000).nullish()),
    metadata: t.field({ type: "JSON" }),
  }),
});

const SetPlanEntitlementInput = builder.inputType("SetPlanEntitlementInput", {
  fields: (t) => ({
    planId: t.id({ required: true }).validate(globalId("Plan")),
    featureKey: t.string({ required: true }).validate(catalogKey),
    ...entitlementValueInputFields(t),
  }),
});

builder.queryFields((t) => ({
  plan: t.prismaField({
    type: "Plan",
    nullable: true,
    authScopes: { read: true },
    description: "A plan or add-on by global ID or by key.",
    args: {
      id: t.arg.id().validate(globalId("Plan").nullish()),
      key: t.arg.string(),
    },
    resolve: async (query, _root, args, context) => {
      const lookup = byIdOrKey(args, "key");
      const plan = await context.prisma.plan.findFirst({ ...query, where: { projectId: projectIdOf(context), ...lookup.where } });
      return foundOrThrow("Plan", lookup, plan);
    },
  }),
  plans: t.prismaConnection(
    {
      type: "Plan",
      cursor: "id",
      authScopes: { read: true },
      args: { kind: t.arg({ type: PlanKindEnum }), status: t.arg({ type: CatalogStatusEnum }) },
      resolve: (query, _root, args, context) => context.prisma.plan.findMany({ ...query, where: planFilter(args, context) }),
      totalCount: (_root, args, context) => context.prisma.plan.count({ where: planFilter(args, context) }),
    },
    PlanConnection,
  ),
}));

builder.mutationFields((t) => ({
  createPlan: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreatePlanInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      try {
        return await cachedRowsWrite(context, { catalog: true }, () => context.prisma.plan.create({
          ...query,
          data: {
            projectId: projectIdOf(context),
            key: input.key,
            name: input.name,
            description: input.description ?? null,
            kind: input.kind ?? "PLAN",
            metadata: input.metadata ?? undefined,
          },
        }));
      } catch (error) {
        if (uniqueViolationFields(error)) throw alreadyExists("plan", "input.key", input.key);
        throw error;
      }
    },
  }),
  updatePlan: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    args: { input: t.arg({ type: UpdatePlanInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      await ownedPlan(context, input.id, "input.id");
      return cachedRowsWrite(context, { catalog: true }, () => context.prisma.plan.update({
        ...query,
        where: { id: input.id },
        data: { name: input.name ?? undefined, description: input.description, metadata: input.metadata ?? undefined },
      }));
    },
  }),
  archivePlan: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    description: "Stops the plan being subscribed to or added anew; existing subscriptions keep it.",
    args: { id: t.arg.id({ required: true }).validate(globalId("Plan")) },
    resolve: async (query, _root, args, context) => {
      await ownedPlan(context, args.id, "id");
      return cachedRowsWrite(context, { catalog: true }, () =>
        context.prisma.plan.update({ ...query, where: { id: args.id }, data: { status: "ARCHIVED" } }),
      );
    },
  }),
  setPlanEntitlement: t.prismaField({
    type: "PlanEntitlement",
    authScopes: { write: true },
    description: "Creates or replaces what the plan gives for the feature.",
    args: { input: t.arg({ type: SetPlanEntitlementInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const plan = await ownedPlan(context, input.planId, "input.planId");
      const feature = await featureByKey(context, input.featureKey, "input.featureKey");
      const existing = await context.prisma.planEntitlement.findUnique({
        where: { planId_featureId: { planId: plan.id, featureId: feature.id } },
      });
      if (feature.status === "ARCHIVED" && (!existing || existing.removedAt)) {
        throw invalidOperation(`Feature "${feature.key}" is archived and cannot be added to a plan anew`, "input.featureKey");
      }
      const value = requireCompleteValue(feature, pickValueInput(input));
      const saved = await cachedRowsWrite(context, { catalog: true }, () => context.prisma.planEntitlement.upsert({
        ...query,
        where: { planId_featureId: { planId: plan.id, featureId: feature.id } },
        create: { planId: plan.id, featureId: feature.id, ...value },
        update: { ...value, removedAt: null },
      }));
      announcePlanChange(context, plan.id, feature.id, existing && !existing.removedAt ? valueOf(existing) : null);
      return saved;
    },
  }),
  removePlanEntitlement: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    args: {
      planId: t.arg.id({ required: true }).validate(globalId("Plan")),
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
    },
    resolve: async (query, _root, args, context) => {
      const plan = await ownedPlan(context, args.planId, "planId");
      const feature = await featureByKey(context, args.featureKey, "featureKey");
      const existing = await context.prisma.planEntitlement.findFirst({ where: { planId: plan.id, featureId: feature.id, removedAt: null } });
      if (!existing) throw notFound(`Plan "${plan.key}" has no entitlement for feature`, "featureKey", feature.key);
      await cachedRowsWrite(context, { catalog: true }, () =>
        context.prisma.planEntitlement.update({ where: { id: existing.id }, data: { removedAt: new Date() } }),
      );
      announcePlanChange(context, plan.id, feature.id, valueOf(existing));
      return context.prisma.plan.findUniqueOrThrow({ ...query, where: { id: plan.id } });
    },
  }),
}));
