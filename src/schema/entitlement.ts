// A customer's aggregated entitlements, their sources and usage, and checks. The rules live
// in src/domain/entitlements.ts and checks.ts, the reading in src/services/entitlements.ts;
// this module only maps them.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { z } from "zod";
import { builder } from "./builder.ts";
import { FeatureTypeEnum, ResetPeriodEnum } from "./enums.ts";
import { CustomerNode, CustomerRef } from "./customer.ts";
import { FeatureNode } from "./feature.ts";
import { SubscriptionNode } from "./subscription.ts";
import { catalogKey, globalId, usageQuantity } from "./inputs.ts";
import { scopeOf } from "../context.ts";
import type { Source } from "../domain/entitlements.ts";
import { hasAccess, usageSummary } from "../domain/checks.ts";
import { checkEntitlement, entitlementOf, type EntitlementCheck } from "../services/checks.ts";
import { loadedCustomer } from "../services/customers.ts";
import { loadUsage, readEntitlements, sumRemaining, usageOf, type EvaluatedEntitlement } from "../services/entitlements.ts";
import type { CreditBalance } from "../domain/credits.ts";
import { GrantNode } from "./grant.ts";
import { selectsAnyOf } from "./selection.ts";
import type { FeatureType } from "../domain/entitlement-value.ts";

const EntitlementSourceTypeEnum = builder.enumType("EntitlementSourceType", {
  description: "Where an entitlement comes from.",
  values: {
    PLAN: {},
    ADDON: {},
    SUBSCRIPTION: { description: "A per-subscription override of the plan's value for one feature." },
    GRANT: { description: "A grant made directly to the customer (promotion, trial, compensation...)." },
  } as const,
});

export const CheckReasonEnum = builder.enumType("CheckReason", {
  values: {
    ENTITLED: { description: "Enabled, and within the limit (or no limit applies)." },
    SOFT_LIMIT_EXCEEDED: { description: "Enabled; the request goes over a soft limit, which is allowed." },
    LIMIT_EXCEEDED: { description: "The request would go over a hard limit." },
    NOT_ENTITLED: { description: "No active source enables the feature for this customer." },
  } as const,
});

const EntitlementSourceType = builder.objectRef<{ customerId: string; source: Source }>("EntitlementSource").implement({
  fields: (t) => ({
    type: t.field({ type: EntitlementSourceTypeEnum, resolve: ({ source }) => source.type }),
    entityId: t.id({
      description: "Global ID of the plan, add-on, subscription override or grant.",
      resolve: ({ source }) => encodeGlobalID(source.entity.type, source.entity.id),
    }),
    entityName: t.string({ nullable: true, resolve: ({ source }) => source.entityName }),
    subscription: t.field({
      type: SubscriptionNode,
      nullable: true,
      resolve: async ({ customerId, source }, _args, context) =>
        source.subscriptionId
          ? ((await context.loaders.customerState.load(customerId)).subscriptionRows.get(source.subscriptionId) ?? null)
          : null,
    }),
    quantity: t.int({ resolve: ({ source }) => source.quantity }),
    isEnabled: t.boolean({ resolve: ({ source }) => source.isEnabled }),
    usageLimit: t.float({
      nullable: true,
      description: "This source's contribution (per-unit limit x quantity); null means unlimited.",
      resolve: ({ source }) => source.usageLimit,
    }),
    isUnlimited: t.boolean({ resolve: ({ source }) => source.isUnlimited }),
    resetPeriod: t.field({ type: ResetPeriodEnum, nullable: true, resolve: ({ source }) => source.resetPeriod }),
    isSoftLimit: t.boolean({ resolve: ({ source }) => source.isSoftLimit }),
    staticValue: t.string({ nullable: true, resolve: ({ source }) => source.staticValue }),
    priority: t.int({ resolve: ({ source }) => source.priority }),
    activeFrom: t.field({ type: "DateTime", resolve: ({ source }) => source.activeFrom }),
    activeTo: t.field({ type: "DateTime", nullable: true, resolve: ({ source }) => source.activeTo }),
  }),
});

/** `answer(used, credits)`, at once when the usage is loaded (see FIELDS_READING_USAGE), else when it is. */
const withUsage = <T>(evaluated: EvaluatedEntitlement, answer: (used: number, credits: CreditBalance[]) => T): T | Promise<T> =>
  evaluated.usedIfLoaded === undefined || evaluated.creditsIfLoaded === undefined
    ? usageOf(evaluated).then(({ used, credits }) => answer(used, credits))
    : answer(evaluated.usedIfLoaded, evaluated.creditsIfLoaded);

const summaryOf = (evaluated: EvaluatedEntitlement) =>
  withUsage(evaluated, (used, credits) => usageSummary(evaluated.entitlement, used, sumRemaining(credits)));

/** The fields of CustomerEntitlement that read its usage. */
const FIELDS_READING_USAGE: ReadonlySet<string> = new Set(["hasAccess", "usage"]);

const CreditBalanceType = builder.objectRef<{ customerId: string; credit: CreditBalance }>("CreditBalance").implement({
  description: "One credit grant's balance inside an entitlement, in burn-down order.",
  fields: (t) => ({
    grant: t.field({
      type: GrantNode,
      resolve: async ({ customerId, credit }, _args, context) => {
        const row = (await context.loaders.customerState.load(customerId)).grantRows.get(credit.grantId);
        if (!row) throw new Error(`Grant ${credit.grantId} vanished`);
        return row;
      },
    }),
    amount: t.float({ resolve: ({ credit }) => credit.amount }),
    remaining: t.float({ resolve: ({ credit }) => credit.remaining }),
    effectiveAt: t.field({ type: "DateTime", resolve: ({ credit }) => credit.effectiveAt }),
    expiresAt: t.field({ type: "DateTime", nullable: true, resolve: ({ credit }) => credit.expiresAt }),
  }),
});

/** A METERED entitlement's usage, read from the evaluated entitlement itself. */
const UsageType = builder.objectRef<EvaluatedEntitlement>("Usage").implement({
  fields: (t) => ({
    used: t.float({ resolve: (evaluated) => withUsage(evaluated, (used) => used) }),
    remaining: t.float({
      nullable: true,
      description: "usageLimit - used: null when unlimited; negative when a soft limit was exceeded or credits covered the excess.",
      resolve: async (evaluated) => (await summaryOf(evaluated)).remaining,
    }),
    periodStart: t.field({ type: "DateTime", nullable: true, resolve: ({ entitlement }) => entitlement.period?.start ?? null }),
    periodEnd: t.field({ type: "DateTime", nullable: true, resolve: ({ entitlement }) => entitlement.period?.end ?? null }),
    creditsRemaining: t.float({
      description: "What the credits still hold (sum of `credits.remaining`).",
      resolve: async (evaluated) => (await summaryOf(evaluated)).creditsRemaining,
    }),
    available: t.float({
      nullable: true,
      description: "How much more may be used now: max(0, remaining) + creditsRemaining; null when unlimited.",
      resolve: async (evaluated) => (await summaryOf(evaluated)).available,
    }),
    credits: t.field({
      type: [CreditBalanceType],
      description: "Active credit grants, in burn-down order.",
      resolve: (evaluated) =>
        withUsage(evaluated, (_used, credits) => credits.map((credit) => ({ customerId: evaluated.customerId, credit }))),
    }),
  }),
});

export const CustomerEntitlementType = builder.objectRef<EvaluatedEntitlement>("CustomerEntitlement").implement({
  fields: (t) => ({
    customer: t.field({
      type: CustomerNode,
      resolve: ({ customerId }, _args, context) => loadedCustomer(context.loaders, customerId),
    }),
    feature: t.field({
      type: FeatureNode,
      resolve: async ({ customerId, entitlement }, _args, context) => {
        const row = (await context.loaders.customerState.load(customerId)).featureRows.get(entitlement.feature.id);
        if (!row) throw new Error(`Feature ${entitlement.feature.id} vanished`);
        return row;
      },
    }),
    featureKey: t.string({ resolve: ({ entitlement }) => entitlement.feature.key }),
    featureType: t.field({ type: FeatureTypeEnum, resolve: ({ entitlement }) => entitlement.feature.type }),
    isEnabled: t.boolean({ resolve: ({ entitlement }) => entitlement.isEnabled }),
    hasAccess: t.boolean({
      description: "Enabled and, for METERED, unlimited, soft, or used < limit.",
      resolve: (evaluated) => withUsage(evaluated, (used, credits) => hasAccess(evaluated.entitlement, used, sumRemaining(credits))),
    }),
    usageLimit: t.float({
      nullable: true,
      description: "METERED: the summed limit; null means unlimited.",
      resolve: ({ entitlement }) => entitlement.usageLimit,
    }),
    isUnlimited: t.boolean({ resolve: ({ entitlement }) => entitlement.isUnlimited }),
    isSoftLimit: t.boolean({ resolve: ({ entitlement }) => entitlement.isSoftLimit }),
    resetPeriod: t.field({ type: ResetPeriodEnum, nullable: true, resolve: ({ entitlement }) => entitlement.resetPeriod }),
    staticValues: t.stringList({
      description: "STATIC: the distinct values of the enabled sources, best first.",
      resolve: ({ entitlement }) => entitlement.staticValues,
    }),
    staticValue: t.string({
      nullable: true,
      description: "STATIC: the first of staticValues.",
      resolve: ({ entitlement }) => entitlement.staticValues[0] ?? null,
    }),
    usage: t.field({
      type: UsageType,
      nullable: true,
      description: "METERED only.",
      resolve: (evaluated) => (evaluated.entitlement.feature.type === "METERED" ? evaluated : null),
    }),
    activeFrom: t.field({ type: "DateTime", nullable: true, resolve: ({ entitlement }) => entitlement.activeFrom }),
    activeTo: t.field({ type: "DateTime", nullable: true, resolve: ({ entitlement }) => entitlement.activeTo }),
    sources: t.field({
      type: [EntitlementSourceType],
      resolve: ({ customerId, entitlement }) => entitlement.sources.map((source) => ({ customerId, source })),
    }),
  }),
});

builder.prismaObjectFields(CustomerNode, (t) => ({
  entitlements: t.field({
    type: [CustomerEntitlementType],
    description:
      "The customer's aggregated entitlements: one entry per feature that has at least one source active at `at`, ordered by feature key.",
    args: {
      at: t.arg({ type: "DateTime" }),
      featureKeys: t.arg.stringList().validate(z.array(catalogKey).max(200).nullish()),
      featureIds: t.arg.idList().validate(z.array(globalId("Feature")).max(200).nullish()),
      subscriptionIds: t.arg.idList().validate(z.array(globalId("CustomerSubscription")).max(200).nullish()),
      types: t.arg({ type: [FeatureTypeEnum] }),
    },
    resolve: async (customer, args, context, info) => {
      const entitlements = await readEntitlements(context.loaders, customer.id, args.at ?? new Date(), {
        filters: {
          featureKeys: args.featureKeys,
          featureIds: args.featureIds,
          subscriptionIds: args.subscriptionIds,
          types: args.types as FeatureType[] | null | undefined,
        },
      });
      // Their usage in one go, so that each entitlement's fields answer without a promise of their own.
      if (selectsAnyOf(info, FIELDS_READING_USAGE)) await loadUsage(context.loaders, entitlements);
      return entitlements;
    },
  }),
  entitlement: t.field({
    type: CustomerEntitlementType,
    nullable: true,
    description: "One feature's aggregated entitlement; null when no source is active at `at`.",
    args: { featureKey: t.arg.string({ required: true }).validate(catalogKey), at: t.arg({ type: "DateTime" }) },
    resolve: (customer, args, context) => entitlementOf(scopeOf(context), customer.id, args.featureKey, args.at),
  }),
}));

const quantityToCheck = usageQuantity.refine((value) => value >= 0, "must be at least 0");

const EntitlementCheckType = builder.objectRef<EntitlementCheck>("EntitlementCheck").implement({
  fields: (t) => ({
    allowed: t.exposeBoolean("allowed"),
    reason: t.field({ type: CheckReasonEnum, resolve: (result) => result.reason }),
    entitlement: t.field({ type: CustomerEntitlementType, nullable: true, resolve: (result) => result.entitlement }),
  }),
});

builder.queryField("checkEntitlement", (t) =>
  t.field({
    type: EntitlementCheckType,
    authScopes: { read: true, customerToken: true },
    description: "Can this customer use `quantity` more of this feature now (or at `at`)?",
    args: {
      customer: t.arg({ type: CustomerRef, required: true }),
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
      quantity: t.arg.float().validate(quantityToCheck.nullish()),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, context) => checkEntitlement(scopeOf(context), args),
  }),
);
