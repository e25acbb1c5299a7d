// Feature: what a product offers (a switch, an allowance or a configuration value).
import { z } from "zod";
import { builder } from "./builder.ts";
import { CatalogStatusEnum, FeatureTypeEnum } from "./enums.ts";
import { catalogKey, globalId, longText, text } from "./inputs.ts";
import { projectIdOf, scopeOf, type Context } from "../context.ts";
import { asSelected, byIdOrKey, foundOrThrow } from "./lookup.ts";
import type { FeatureLevel } from "../domain/entitlement-value.ts";
import type { Feature, Prisma } from "../generated/prisma/client.ts";
import * as catalog from "../services/catalog.ts";

const FeatureLevelType = builder.objectRef<FeatureLevel>("FeatureLevel").implement({
  fields: (t) => ({
    level: t.exposeInt("level"),
    name: t.exposeString("name"),
    value: t.exposeString("value"),
    isUnlimited: t.exposeBoolean("isUnlimited"),
  }),
});

/**
 * A customer token reaches features through its entitlements and reads what a frontend shows
 * of one (key, name, description, type, units, levels); the fields marked so need a key.
 */
const keysOnly = { read: true } as const;

export const FeatureNode = builder.prismaNode("Feature", {
  id: { field: "id" },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    key: t.exposeString("key"),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    type: t.expose("type", { type: FeatureTypeEnum }),
    unitSingular: t.exposeString("unitSingular", { nullable: true }),
    unitPlural: t.exposeString("unitPlural", { nullable: true }),
    levels: t.field({
      type: [FeatureLevelType],
      description: "Ordered levels (lowest first), optional, for STATIC and METERED features.",
      resolve: catalog.featureLevels,
    }),
    alertThresholds: t.floatList({
      description:
        "METERED: percentages of a customer's usage limit (e.g. [80, 100]) at which a USAGE_THRESHOLD_REACHED event is sent, once per customer, threshold and usage period.",
      resolve: (feature) => feature.alertThresholds ?? [],
    }),
    // What manages the catalog, not what a frontend shows: API keys only (docs/rules.md §7).
    status: t.expose("status", { type: CatalogStatusEnum, authScopes: keysOnly }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true, authScopes: keysOnly }),
    createdAt: t.expose("createdAt", { type: "DateTime", authScopes: keysOnly }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", authScopes: keysOnly }),
  }),
});

const FeatureConnection = builder.connectionObject({ type: FeatureNode, name: "FeatureConnection" }, { name: "FeatureEdge" });

const FeatureLevelInput = builder.inputType("FeatureLevelInput", {
  fields: (t) => ({
    level: t.int({ required: true }).validate(z.number().int().min(0, "must be at least 0").max(1_000_000)),
    name: t.string({ required: true }).validate(text(100)),
    value: t.string({ required: true }).validate(text(500)),
    isUnlimited: t.boolean(),
  }),
});

const CreateFeatureInput = builder.inputType("CreateFeatureInput", {
  fields: (t) => ({
    key: t.string({ required: true }).validate(catalogKey),
    name: t.string({ required: true }).validate(text(200)),
    description: t.string().validate(longText(2000).nullish()),
    type: t.field({ type: FeatureTypeEnum, required: true }),
    unitSingular: t.string().validate(text(50).nullish()),
    unitPlural: t.string().validate(text(50).nullish()),
    levels: t.field({ type: [FeatureLevelInput] }).validate(z.array(z.any()).max(50, "at most 50 levels").nullish()),
    alertThresholds: t.floatList({ description: "METERED: percentages of the usage limit, each in (0, 1000], at most 10." }),
    metadata: t.field({ type: "JSON" }),
  }),
});

const UpdateFeatureInput = builder.inputType("UpdateFeatureInput", {
  fields: (t) => ({
    id: t.id({ required: true }).validate(globalId("Feature")),
    name: t.string().validate(text(200).nullish()),
    description: t.string().validate(longText(2000).nullish()),
    unitSingular: t.string().validate(text(50).nullish()),
    unitPlural: t.string().validate(text(50).nullish()),
    levels: t.field({ type: [FeatureLevelInput] }).validate(z.array(z.any()).max(50, "at most 50 levels").nullish()),
    alertThresholds: t.floatList({ description: "METERED: percentages of the usage limit, each in (0, 1000], at most 10." }),
    metadata: t.field({ type: "JSON" }),
  }),
});

const featureFilter = (
  args: { types?: Feature["type"][] | null; status?: Feature["status"] | null },
  context: Context,
): Prisma.FeatureWhereInput => ({
  projectId: projectIdOf(context),
  ...(args.types ? { type: { in: args.types } } : {}),
  ...(args.status ? { status: args.status } : {}),
});

builder.queryFields((t) => ({
  feature: t.prismaField({
    type: "Feature",
    nullable: true,
    authScopes: { read: true },
    description: "A feature by global ID or by key.",
    args: {
      id: t.arg.id().validate(globalId("Feature").nullish()),
      key: t.arg.string(),
    },
    resolve: async (query, _root, args, context) => {
      const lookup = byIdOrKey(args, "key");
      const feature = await context.prisma.feature.findFirst({ ...query, where: { projectId: projectIdOf(context), ...lookup.where } });
      return foundOrThrow("Feature", lookup, feature);
    },
  }),
  features: t.prismaConnection(
    {
      type: "Feature",
      cursor: "id",
      authScopes: { read: true },
      args: {
        types: t.arg({ type: [FeatureTypeEnum] }),
        status: t.arg({ type: CatalogStatusEnum }),
      },
      resolve: (query, _root, args, context) => context.prisma.feature.findMany({ ...query, where: featureFilter(args, context) }),
      totalCount: (_root, args, context) => context.prisma.feature.count({ where: featureFilter(args, context) }),
    },
    FeatureConnection,
  ),
}));

builder.mutationFields((t) => ({
  createFeature: t.prismaField({
    type: "Feature",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateFeatureInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await catalog.createFeature(scopeOf(context), input), (selected) =>
        context.prisma.feature.findUniqueOrThrow(selected),
      ),
  }),
  updateFeature: t.prismaField({
    type: "Feature",
    authScopes: { write: true },
    args: { input: t.arg({ type: UpdateFeatureInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await catalog.updateFeature(scopeOf(context), input), (selected) =>
        context.prisma.feature.findUniqueOrThrow(selected),
      ),
  }),
  archiveFeature: t.prismaField({
    type: "Feature",
    authScopes: { write: true },
    description: "Stops the feature being added anywhere new; what already uses it keeps working.",
    args: { id: t.arg.id({ required: true }).validate(globalId("Feature")) },
    resolve: async (query, _root, args, context) =>
      asSelected(query, await catalog.archiveFeature(scopeOf(context), args.id), (selected) =>
        context.prisma.feature.findUniqueOrThrow(selected),
      ),
  }),
}));
