// Plans and add-ons, and what each gives per feature (PlanEntitlement).
import { builder } from "./builder.ts";
import { CatalogStatusEnum, PlanKindEnum } from "./enums.ts";
import { FeatureNode } from "./feature.ts";
import { catalogKey, globalId, longText, text } from "./inputs.ts";
import { entitlementValueInputFields, entitlementValueOutputFields } from "./entitlement-value.ts";
import { projectIdOf, scopeOf, type Context } from "../context.ts";
import { asSelected, byIdOrKey, foundOrThrow } from "./lookup.ts";
import type { Plan, Prisma } from "../generated/prisma/client.ts";
import { notRemovedWhere } from "../db/rules-in-sql.ts";
import * as catalog from "../services/catalog.ts";

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
      query: { where: notRemovedWhere, orderBy: { feature: { key: "asc" } } },
    }),
  }),
});

const PlanConnection = builder.connectionObject({ type: PlanNode, name: "PlanConnection" }, { name: "PlanEdge" });

const PlanEntitlementNode = builder.prismaNode("PlanEntitlement", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, ...notRemovedWhere, plan: { projectId: projectIdOf(context) } }),
  description: "What one plan or add-on gives for one feature (per unit of quantity).",
  fields: (t) => ({
    plan: t.relation("plan"),
    feature: t.relation("feature"),
  }),
});
builder.objectFields(PlanEntitlementNode, (t) => entitlementValueOutputFields(t, (entitlement) => entitlement));

const planFilter = (args: { kind?: Plan["kind"] | null; status?: Plan["status"] | null }, context: Context): Prisma.PlanWhereInput => ({
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
          where: { projectId: projectIdOf(context), entitlements: { some: { featureId: feature.id, ...notRemovedWhere } } },
        }),
      totalCount: (feature, _args, context) =>
        context.prisma.plan.count({
          where: { projectId: projectIdOf(context), entitlements: { some: { featureId: feature.id, ...notRemovedWhere } } },
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

export const SetPlanEntitlementInput = builder.inputType("SetPlanEntitlementInput", {
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
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await catalog.createPlan(scopeOf(context), input), (selected) => context.prisma.plan.findUniqueOrThrow(selected)),
  }),
  updatePlan: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    args: { input: t.arg({ type: UpdatePlanInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await catalog.updatePlan(scopeOf(context), input), (selected) => context.prisma.plan.findUniqueOrThrow(selected)),
  }),
  archivePlan: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    description: "Stops the plan being subscribed to or added anew; existing subscriptions keep it.",
    args: { id: t.arg.id({ required: true }).validate(globalId("Plan")) },
    resolve: async (query, _root, args, context) =>
      asSelected(query, await catalog.archivePlan(scopeOf(context), args.id), (selected) =>
        context.prisma.plan.findUniqueOrThrow(selected),
      ),
  }),
  setPlanEntitlement: t.prismaField({
    type: "PlanEntitlement",
    authScopes: { write: true },
    description: "Creates or replaces what the plan gives for the feature.",
    args: { input: t.arg({ type: SetPlanEntitlementInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await catalog.setPlanEntitlement(scopeOf(context), input), (selected) =>
        context.prisma.planEntitlement.findUniqueOrThrow(selected),
      ),
  }),
  removePlanEntitlement: t.prismaField({
    type: "Plan",
    authScopes: { write: true },
    args: {
      planId: t.arg.id({ required: true }).validate(globalId("Plan")),
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
    },
    resolve: async (query, _root, args, context) =>
      asSelected(query, await catalog.removePlanEntitlement(scopeOf(context), args), (selected) =>
        context.prisma.plan.findUniqueOrThrow(selected),
      ),
  }),
}));
