// Feature: what a product offers (a switch, an allowance or a configuration value).
import { z } from "zod";
import { builder } from "./builder.ts";
import { CatalogStatusEnum, FeatureTypeEnum } from "./enums.ts";
import { catalogKey, globalId, longText, text } from "./inputs.ts";
import { cachedRowsWrite, projectIdOf, type Context } from "../context.ts";
import { alreadyExists, notFound, validationFailed } from "../errors.ts";
import { byIdOrKey, foundOrThrow } from "./lookup.ts";
import { uniqueViolationFields } from "../db/errors.ts";
import { checkFeatureLevels, type FeatureLevel } from "../domain/entitlement-value.ts";
import type { Feature, Prisma } from "../generated/prisma/client.ts";

export const FeatureLevelType = builder.objectRef<FeatureLevel>("FeatureLevel").implement({
  fields: (t) => ({
    level: t.exposeInt("level"),
    name: t.exposeString("name"),
    value: t.exposeString("value"),
    isUnlimited: t.exposeBoolean("isUnlimited"),
  }),
});

export const featureLevels = (feature: Pick<Feature, "levels">): FeatureLevel[] =>
  (feature.levels as unknown as FeatureLevel[] | null) ?? [];

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
      resolve: featureLevels,
    }),
    status: t.expose("status", { type: CatalogStatusEnum }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

export const FeatureConnection = builder.connectionObject(
  { type: FeatureNode, name: "FeatureConnection" },
  { name: "FeatureEdge" },
);

/** The feature with this key in the caller's project, or NOT_FOUND naming `field`. */
export async function featureByKey(context: Context, key: string, field: string): Promise<Feature> {
  const feature = await context.loaders.featureByKey.load(key);
  if (!feature) throw notFound("Feature", field, key);
  return feature;
}

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
    metadata: t.field({ type: "JSON" }),
  }),
});

function normalisedLevels(levels: readonly { level: number; name: string; value: string; isUnlimited?: boolean | null }[] | null | undefined) {
  if (!levels) return undefined;
  const checked = checkFeatureLevels(levels.map((level) => ({ ...level, isUnlimited: level.isUnlimited ?? false })));
  if (!checked.ok) {
    throw validationFailed(checked.problems.map((problem) => ({ ...problem, field: `input.${problem.field}` })));
  }
  return checked.levels as unknown as Prisma.InputJsonValue;
}

const featureFilter = (
  args: { types?: Feature["type"][] | null; status?: Feature["status"] | null },
  context: Context,
): Prisma.FeatureWhereInput => ({
  projectId: projectIdOf(context),
  ...(args.types ? { type: { in: args.types } } : {}),
  ...(args.status ? { status: args.status } : {}),
});

/** The feature with this id in the caller's project, or NOT_FOUND. */
async function ownedFeature(context: Context, id: string, field: string) {
  const feature = await context.prisma.feature.findFirst({ where: { id, projectId: projectIdOf(context) } });
  if (!feature) throw notFound("Feature", field);
  return feature;
}

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
      resolve: (query, _root, args, context) =>
        context.prisma.feature.findMany({ ...query, where: featureFilter(args, context) }),
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
    resolve: async (query, _root, { input }, context) => {
      try {
        return await cachedRowsWrite(context, { catalog: true }, () => context.prisma.feature.create({
          ...query,
          data: {
            projectId: projectIdOf(context),
            key: input.key,
            name: input.name,
            description: input.description ?? null,
            type: input.type,
            unitSingular: input.unitSingular ?? null,
            unitPlural: input.unitPlural ?? null,
            levels: normalisedLevels(input.levels) ?? [],
            metadata: input.metadata ?? undefined,
          },
        }));
      } catch (error) {
        if (uniqueViolationFields(error)) throw alreadyExists("feature", "input.key", input.key);
        throw error;
      }
    },
  }),
  updateFeature: t.prismaField({
    type: "Feature",
    authScopes: { write: true },
    args: { input: t.arg({ type: UpdateFeatureInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      await ownedFeature(context, input.id, "input.id");
      return cachedRowsWrite(context, { catalog: true }, () => context.prisma.feature.update({
        ...query,
        where: { id: input.id },
        data: {
          name: input.name ?? undefined,
          description: input.description,
          unitSingular: input.unitSingular,
          unitPlural: input.unitPlural,
          levels: normalisedLevels(input.levels),
          metadata: input.metadata ?? undefined,
        },
      }));
    },
  }),
  archiveFeature: t.prismaField({
    type: "Feature",
    authScopes: { write: true },
    description: "Stops the feature being added anywhere new; what already uses it keeps working.",
    args: { id: t.arg.id({ required: true }).validate(globalId("Feature")) },
    resolve: async (query, _root, args, context) => {
      await ownedFeature(context, args.id, "id");
      return cachedRowsWrite(context, { catalog: true }, () =>
        context.prisma.feature.update({ ...query, where: { id: args.id }, data: { status: "ARCHIVED" } }),
      );
    },
  }),
}));
