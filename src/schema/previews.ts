// Previews and impact (docs/rules.md §9): what changeSubscriptionPlan, setPlanEntitlement and
// removePlanEntitlement would do, written nowhere. The evaluation is src/services/previews.ts's.
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerNode } from "./customer.ts";
import { CustomerEntitlementType } from "./entitlement.ts";
import { catalogKey, globalId } from "./inputs.ts";
import { SetPlanEntitlementInput } from "./plan.ts";
import { ChangeSubscriptionPlanInput } from "./subscription.ts";
import { scopeOf } from "../context.ts";
import type { ImpactEffect } from "../domain/impact.ts";
import { invalidInput } from "../errors.ts";
import { PAGE_SIZE_LIMITS } from "../limits/operation-cost.ts";
import { loadedCustomer } from "../services/customers.ts";
import {
  previewPlanChange,
  previewPlanEntitlementEdit,
  type CatalogImpact,
  type CustomerImpact,
  type EntitlementDiff,
  type EntitlementPreview,
} from "../services/previews.ts";

const IMPACT_EFFECTS = ["GAINS_ACCESS", "LOSES_ACCESS", "LIMIT_RAISED", "LIMIT_LOWERED", "NOW_OVER_LIMIT", "VALUE_CHANGED"] as const;
const ImpactEffectEnum = builder.enumType("ImpactEffect", {
  values: {
    GAINS_ACCESS: {},
    LOSES_ACCESS: {},
    LIMIT_RAISED: {},
    LIMIT_LOWERED: {},
    NOW_OVER_LIMIT: { description: "The limit is lowered below what the customer has already used this period." },
    VALUE_CHANGED: { description: "Any other observable difference (static value, soft/hard, reset period, enabled)." },
  } satisfies Record<(typeof IMPACT_EFFECTS)[number], object>,
});

const EntitlementDiffType = builder.objectRef<EntitlementDiff>("EntitlementDiff").implement({
  description: "One feature of one customer, before and after a previewed change.",
  fields: (t) => ({
    featureKey: t.exposeString("featureKey"),
    effects: t.field({ type: [ImpactEffectEnum], resolve: (diff) => diff.effects }),
    before: t.field({
      type: CustomerEntitlementType,
      nullable: true,
      description: "Null when the feature had no active source before.",
      resolve: (diff) => diff.before,
    }),
    after: t.field({
      type: CustomerEntitlementType,
      nullable: true,
      description: "Null when the feature has no active source after.",
      resolve: (diff) => diff.after,
    }),
  }),
});

const EntitlementPreviewType = builder.objectRef<EntitlementPreview>("EntitlementPreview").implement({
  fields: (t) => ({
    customer: t.field({ type: CustomerNode, resolve: (preview, _args, context) => loadedCustomer(context.loaders, preview.customerId) }),
    at: t.field({ type: "DateTime", description: "The instant the change would take effect.", resolve: (preview) => preview.at }),
    diffs: t.field({
      type: [EntitlementDiffType],
      description: "Only the features that differ, ordered by feature key.",
      resolve: (preview) => preview.diffs,
    }),
    after: t.field({
      type: [CustomerEntitlementType],
      description: "Every entitlement as it would be just after the change.",
      resolve: (preview) => preview.after,
    }),
  }),
});

const CustomerImpactType = builder.objectRef<CustomerImpact>("CustomerImpact").implement({
  fields: (t) => ({
    customer: t.field({ type: CustomerNode, resolve: (impact, _args, context) => loadedCustomer(context.loaders, impact.customerId) }),
    diff: t.field({ type: EntitlementDiffType, resolve: (impact) => impact.diff }),
  }),
});

const CustomerImpactConnection = builder.connectionObject(
  { type: CustomerImpactType, name: "CustomerImpactConnection" },
  { name: "CustomerImpactEdge" },
);

const CURSOR_PREFIX = "impact:";
const cursorOf = (customerId: string) => Buffer.from(`${CURSOR_PREFIX}${customerId}`).toString("base64url");
function customerIdOf(cursor: string | null | undefined, field: string): string | null {
  if (cursor === null || cursor === undefined) return null;
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  if (!decoded.startsWith(CURSOR_PREFIX)) throw invalidInput(field, "is not a cursor of this connection");
  return decoded.slice(CURSOR_PREFIX.length);
}
const pageSize = z.number().int().min(0).max(PAGE_SIZE_LIMITS.maxPageSize).nullish();

const CatalogImpactType = builder.objectRef<CatalogImpact>("CatalogImpact").implement({
  description: "What a catalog edit would do to the customers it reaches, now.",
  fields: (t) => ({
    featureKey: t.exposeString("featureKey"),
    affectedCustomers: t.int({
      description: "Customers whose entitlement for the feature would differ in any way.",
      resolve: async (impact) => (await impact.counts()).affectedCustomers,
    }),
    gainingAccess: t.int({ resolve: async (impact) => (await impact.counts()).gainingAccess }),
    losingAccess: t.int({ resolve: async (impact) => (await impact.counts()).losingAccess }),
    nowOverLimit: t.int({ resolve: async (impact) => (await impact.counts()).nowOverLimit }),
    customers: t.field({
      type: CustomerImpactConnection,
      extensions: { ownCursors: true },
      args: {
        effects: t.arg({ type: [ImpactEffectEnum] }),
        first: t.arg.int().validate(pageSize),
        after: t.arg.string(),
        last: t.arg.int().validate(pageSize),
        before: t.arg.string(),
      },
      resolve: async (impact, args) => {
        const last = args.last ?? null;
        const page = await impact.page({
          effects: args.effects as ImpactEffect[] | null | undefined,
          afterId: customerIdOf(args.after, "after"),
          beforeId: customerIdOf(args.before, "before"),
          first: last === null ? (args.first ?? PAGE_SIZE_LIMITS.defaultPageSize) : args.first,
          last,
        });
        return {
          edges: page.customers.map((customer) => ({ cursor: cursorOf(customer.customerId), node: customer })),
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: page.hasPreviousPage,
            startCursor: page.customers[0] ? cursorOf(page.customers[0].customerId) : null,
            endCursor: page.customers.at(-1) ? cursorOf((page.customers.at(-1) as CustomerImpact).customerId) : null,
          },
          totalCount: page.totalCount,
        };
      },
    }),
  }),
});

builder.queryFields((t) => ({
  previewPlanChange: t.field({
    type: EntitlementPreviewType,
    authScopes: { read: true },
    description: "What changeSubscriptionPlan with this input would change; writes nothing.",
    args: { input: t.arg({ type: ChangeSubscriptionPlanInput, required: true }) },
    resolve: (_root, { input }, context) => previewPlanChange(scopeOf(context), input),
  }),
  previewPlanEntitlementChange: t.field({
    type: CatalogImpactType,
    authScopes: { read: true },
    description: "What setPlanEntitlement with this input would do to every customer it reaches; writes nothing.",
    args: { input: t.arg({ type: SetPlanEntitlementInput, required: true }) },
    resolve: (_root, { input }, context) => previewPlanEntitlementEdit(scopeOf(context), input, false),
  }),
  previewPlanEntitlementRemoval: t.field({
    type: CatalogImpactType,
    authScopes: { read: true },
    description: "What removePlanEntitlement would do; writes nothing.",
    args: {
      planId: t.arg.id({ required: true }).validate(globalId("Plan")),
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
    },
    resolve: (_root, args, context) => previewPlanEntitlementEdit(scopeOf(context), args, true),
  }),
}));
