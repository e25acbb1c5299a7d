// Customer subscriptions: a customer on a plan over time, with phases, add-ons and overrides.
import { builder } from "./builder.ts";
import { SubscriptionStatusEnum } from "./enums.ts";
import { CustomerNode, CustomerRef, resolveCustomerRef } from "./customer.ts";
import { featureByKey, featureLevels } from "./feature.ts";
import { PlanNode, usablePlan } from "./plan.ts";
import { catalogKey, globalId, quantity } from "./inputs.ts";
import { entitlementValueInputFields, entitlementValueOutputFields, pickValueInput } from "./entitlement-value.ts";
import { projectIdOf, type Context } from "../context.ts";
import { withChangeEvents } from "../events/track.ts";
import { invalidInput, invalidOperation, notFound, validationFailed } from "../errors.ts";
import { planChange, representativePhase, sortPhases } from "../domain/phases.ts";
import { subscriptionStatus, type SubscriptionStatus } from "../domain/subscription-status.ts";
import { isBefore, latest } from "../domain/time.ts";
import {
  checkEntitlementValue,
  mergeEntitlementValue,
  resolveOverrideValue,
  type EntitlementValue,
} from "../domain/entitlement-value.ts";
import type { CustomerSubscription, Prisma, SubscriptionOverride } from "../generated/prisma/client.ts";

// ---- Types -------------------------------------------------------------------------------

builder.prismaObject("SubscriptionPhase", {
  authScopes: { read: true },
  fields: (t) => ({
    plan: t.relation("plan"),
    quantity: t.exposeInt("quantity"),
    startsAt: t.expose("startsAt", { type: "DateTime" }),
    endsAt: t.expose("endsAt", { type: "DateTime", nullable: true }),
  }),
});

export const SubscriptionNode = builder.prismaNode("CustomerSubscription", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    customer: t.relation("customer"),
    plan: t.field({
      type: PlanNode,
      description: "The plan of the phase in force now (before the start: the first; after the end: the last).",
      select: { phases: { include: { plan: true } } },
      resolve: (subscription) => currentPhase(subscription.phases).plan,
    }),
    status: t.field({
      type: SubscriptionStatusEnum,
      description: "Status at `at` (default: now).",
      args: { at: t.arg({ type: "DateTime" }) },
      resolve: (subscription, args) => subscriptionStatus(subscription, args.at ?? new Date()),
    }),
    quantity: t.int({
      description: "The quantity of the phase in force now.",
      select: { phases: true },
      resolve: (subscription) => currentPhase(subscription.phases).quantity,
    }),
    startsAt: t.expose("startsAt", { type: "DateTime" }),
    endsAt: t.expose("endsAt", { type: "DateTime", nullable: true, description: "Null: open-ended." }),
    trialEndsAt: t.expose("trialEndsAt", { type: "DateTime", nullable: true }),
    canceledAt: t.expose("canceledAt", { type: "DateTime", nullable: true }),
    billingAnchor: t.expose("billingAnchor", {
      type: "DateTime",
      description: "The instant usage periods are aligned to (default: startsAt).",
    }),
    phases: t.relation("phases", {
      description: "The plan over time: one phase per plan change, oldest first; `plan` is the phase at now.",
      query: { orderBy: { startsAt: "asc" } },
    }),
    addons: t.relation("addons", { query: { orderBy: [{ startsAt: "asc" }, { id: "asc" }] } }),
    overrides: t.relation("overrides", {
      query: { where: { removedAt: null }, orderBy: { createdAt: "asc" } },
    }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

function currentPhase<P extends { planId: string; quantity: number; startsAt: Date; endsAt: Date | null; id: string }>(
  phases: P[],
): P {
  const phase = representativePhase(phases, new Date());
  if (!phase) throw new Error("A subscription without phases was found");
  return phase;
}

export const SubscriptionConnection = builder.connectionObject(
  { type: SubscriptionNode, name: "CustomerSubscriptionConnection" },
  { name: "CustomerSubscriptionEdge" },
);

builder.prismaNode("SubscriptionAddon", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, subscription: { projectId: projectIdOf(context) } }),
  fields: (t) => ({
    subscription: t.relation("subscription"),
    addon: t.relation("addon"),
    quantity: t.exposeInt("quantity"),
    startsAt: t.expose("startsAt", { type: "DateTime" }),
    endsAt: t.expose("endsAt", { type: "DateTime", nullable: true }),
  }),
});

const OverrideNode = builder.prismaNode("SubscriptionOverride", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, removedAt: null, subscription: { projectId: projectIdOf(context) } }),
  fields: (t) => ({
    subscription: t.relation("subscription"),
    feature: t.relation("feature"),
  }),
});
builder.objectFields(OverrideNode, (t) => entitlementValueOutputFields(t, overrideValueNow));

/** An override's value now: its own fields, the rest inherited from the current plan's entitlement. */
async function overrideValueNow(override: SubscriptionOverride, context: Context): Promise<EntitlementValue> {
  const [feature, phases] = await Promise.all([
    context.loaders.featureById.load(override.featureId),
    context.loaders.phasesBySubscriptionId.load(override.subscriptionId),
  ]);
  if (!feature) throw new Error(`Override ${override.id} refers to a missing feature`);
  const phase = representativePhase(phases, new Date());
  const planEntitlement = phase ? await context.loaders.planEntitlement.load(`${phase.planId}:${feature.id}`) : null;
  return resolveOverrideValue({ key: feature.key, type: feature.type, levels: featureLevels(feature) }, override, planEntitlement);
}

// ---- Status filters ----------------------------------------------------------------------

/** The SQL form of SPEC §2's status rules (src/domain/subscription-status.ts) at instant t. */
export function statusWhere(statuses: readonly SubscriptionStatus[], t: Date): Prisma.CustomerSubscriptionWhereInput {
  const started = { startsAt: { lte: t } };
  const notCanceled = { OR: [{ canceledAt: null }, { canceledAt: { gt: t } }] };
  const notEnded = { OR: [{ endsAt: null }, { endsAt: { gt: t } }] };
  const notTrialing = { OR: [{ trialEndsAt: null }, { trialEndsAt: { lte: t } }] };
  const running = [started, notCanceled, notEnded];
  const conditions: Record<SubscriptionStatus, Prisma.CustomerSubscriptionWhereInput> = {
    SCHEDULED: { startsAt: { gt: t } },
    CANCELED: { AND: [started, { canceledAt: { lte: t } }] },
    EXPIRED: { AND: [started, notCanceled, { endsAt: { lte: t } }] },
    TRIALING: { AND: [...running, { trialEndsAt: { gt: t } }] },
    NON_RENEWING: { AND: [...running, notTrialing, { OR: [{ canceledAt: { not: null } }, { endsAt: { not: null } }] }] },
    ACTIVE: { AND: [...running, notTrialing, { canceledAt: null }, { endsAt: null }] },
  };
  return { OR: statuses.map((status) => conditions[status]) };
}

const statusFilter = (statuses: readonly SubscriptionStatus[] | null | undefined, at: Date | null | undefined) =>
  statuses && statuses.length > 0 ? statusWhere(statuses, at ?? new Date()) : {};

builder.prismaObjectField(CustomerNode, "subscriptions", (t) =>
  t.relatedConnection(
    "subscriptions",
    {
      cursor: "id",
      totalCount: true,
      authScopes: { read: true },
      description: "The customer's subscriptions, oldest first; `status` is evaluated at `at` (default: now).",
      args: { status: t.arg({ type: [SubscriptionStatusEnum] }), at: t.arg({ type: "DateTime" }) },
      query: (args) => ({ where: statusFilter(args.status, args.at), orderBy: { id: "asc" } }),
    },
    SubscriptionConnection,
  ),
);

const planSubscriptionsWhere = (
  planId: string,
  statuses: readonly SubscriptionStatus[] | null | undefined,
  context: Context,
): Prisma.CustomerSubscriptionWhereInput => ({
  projectId: projectIdOf(context),
  phases: { some: { planId, OR: [{ endsAt: null }, { endsAt: { gt: new Date() } }] } },
  ...statusFilter(statuses, null),
});

builder.prismaObjectField(PlanNode, "subscriptions", (t) =>
  t.prismaConnection(
    {
      type: "CustomerSubscription",
      cursor: "id",
      description: "Subscriptions on this plan now or from a scheduled phase; `status` is evaluated now.",
      args: { status: t.arg({ type: [SubscriptionStatusEnum] }) },
      resolve: (query, plan, args, context) =>
        context.prisma.customerSubscription.findMany({ ...query, where: planSubscriptionsWhere(plan.id, args.status, context) }),
      totalCount: (plan, args, context) =>
        context.prisma.customerSubscription.count({ where: planSubscriptionsWhere(plan.id, args.status, context) }),
    },
    SubscriptionConnection,
  ),
);

// ---- Inputs ------------------------------------------------------------------------------

const SubscriptionAddonInput = builder.inputType("SubscriptionAddonInput", {
  fields: (t) => ({
    addonId: t.id({ required: true }).validate(globalId("Plan")),
    quantity: t.int().validate(quantity.nullish()),
    startsAt: t.field({ type: "DateTime" }),
    endsAt: t.field({ type: "DateTime" }),
  }),
});

const CreateSubscriptionInput = builder.inputType("CreateSubscriptionInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    planId: t.id({ required: true }).validate(globalId("Plan")),
    quantity: t.int().validate(quantity.nullish()),
    startsAt: t.field({ type: "DateTime" }),
    endsAt: t.field({ type: "DateTime" }),
    trialEndsAt: t.field({ type: "DateTime" }),
    billingAnchor: t.field({ type: "DateTime" }),
    addons: t.field({ type: [SubscriptionAddonInput] }),
    metadata: t.field({ type: "JSON" }),
  }),
});

const ChangeSubscriptionPlanInput = builder.inputType("ChangeSubscriptionPlanInput", {
  fields: (t) => ({
    subscriptionId: t.id({ required: true }).validate(globalId("CustomerSubscription")),
    planId: t.id({ required: true }).validate(globalId("Plan")),
    quantity: t.int().validate(quantity.nullish()),
    at: t.field({ type: "DateTime", description: "When the change takes effect (default: now)." }),
  }),
});

const CancelSubscriptionInput = builder.inputType("CancelSubscriptionInput", {
  fields: (t) => ({
    subscriptionId: t.id({ required: true }).validate(globalId("CustomerSubscription")),
    at: t.field({ type: "DateTime", description: "Cancel now (entitlements end now) or at `at`; default: now." }),
  }),
});

const AddSubscriptionAddonInput = builder.inputType("AddSubscriptionAddonInput", {
  fields: (t) => ({
    subscriptionId: t.id({ required: true }).validate(globalId("CustomerSubscription")),
    addonId: t.id({ required: true }).validate(globalId("Plan")),
    quantity: t.int().validate(quantity.nullish()),
    startsAt: t.field({ type: "DateTime" }),
    endsAt: t.field({ type: "DateTime" }),
  }),
});

const SetSubscriptionOverrideInput = builder.inputType("SetSubscriptionOverrideInput", {
  fields: (t) => ({
    subscriptionId: t.id({ required: true }).validate(globalId("CustomerSubscription")),
    featureKey: t.string({ required: true }).validate(catalogKey),
    ...entitlementValueInputFields(t),
  }),
});

// ---- Helpers -----------------------------------------------------------------------------

async function ownedSubscription(context: Context, id: string, field: string) {
  const subscription = await context.prisma.customerSubscription.findFirst({
    where: { id, projectId: projectIdOf(context) },
    include: { phases: true },
  });
  if (!subscription) throw notFound("Subscription", field);
  return subscription;
}

/** Refuses a change to a subscription that has already ended (canceled or expired) at `at`. */
function requireRunning(subscription: CustomerSubscription, at: Date, field: string) {
  const status = subscriptionStatus(subscription, at);
  if (status === "CANCELED" || status === "EXPIRED") {
    throw invalidOperation(`The subscription is ${status} at ${at.toISOString()}`, field);
  }
}

/** An end must come after its start; `field` names the end in errors. */
function requireAfter(start: Date, end: Date | null | undefined, field: string, startName: string) {
  if (end && !isBefore(start, end)) throw invalidInput(field, `must be after ${startName} (${start.toISOString()})`);
}

// ---- Mutations ---------------------------------------------------------------------------

builder.mutationFields((t) => ({
  createSubscription: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateSubscriptionInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const startsAt = input.startsAt ?? new Date();
      requireAfter(startsAt, input.endsAt, "input.endsAt", "startsAt");
      requireAfter(startsAt, input.trialEndsAt, "input.trialEndsAt", "startsAt");
      if (input.trialEndsAt && input.endsAt && isBefore(input.endsAt, input.trialEndsAt)) {
        throw invalidInput("input.trialEndsAt", "must not be after endsAt");
      }
      const customer = await resolveCustomerRef(context, input.customer, "input.customer");
      const plan = await usablePlan(context, input.planId, "input.planId", "PLAN");
      const addons = await Promise.all(
        (input.addons ?? []).map(async (addon, index) => {
          const field = `input.addons.${index}`;
          const addonPlan = await usablePlan(context, addon.addonId, `${field}.addonId`, "ADDON");
          const addonStart = addon.startsAt ?? startsAt;
          requireAfter(addonStart, addon.endsAt, `${field}.endsAt`, "startsAt");
          return { addonId: addonPlan.id, quantity: addon.quantity ?? 1, startsAt: addonStart, endsAt: addon.endsAt ?? null };
        }),
      );
      return withChangeEvents(context, [customer.id], "SUBSCRIPTION_CHANGED", () => context.prisma.customerSubscription.create({
        ...query,
        data: {
          projectId: projectIdOf(context),
          customerId: customer.id,
          startsAt,
          endsAt: input.endsAt ?? null,
          trialEndsAt: input.trialEndsAt ?? null,
          billingAnchor: input.billingAnchor ?? startsAt,
          metadata: input.metadata ?? undefined,
          phases: { create: { planId: plan.id, quantity: input.quantity ?? 1, startsAt } },
          addons: { create: addons },
        },
      }));
    },
  }),
  changeSubscriptionPlan: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    description: "Closes the phase in force at `at` and opens one on the new plan from `at`.",
    args: { input: t.arg({ type: ChangeSubscriptionPlanInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const subscription = await ownedSubscription(context, input.subscriptionId, "input.subscriptionId");
      const plan = await usablePlan(context, input.planId, "input.planId", "PLAN");
      const at = latest(input.at ?? new Date(), subscription.startsAt);
      requireRunning(subscription, at, "input.at");
      const change = planChange(sortPhases(subscription.phases), { planId: plan.id, quantity: input.quantity, at });
      return withChangeEvents(context, [subscription.customerId], "SUBSCRIPTION_CHANGED", () => context.prisma.$transaction(async (tx) => {
        await tx.subscriptionPhase.deleteMany({ where: { id: { in: change.removePhaseIds } } });
        if (change.closePhase) {
          await tx.subscriptionPhase.update({ where: { id: change.closePhase.id }, data: { endsAt: change.closePhase.endsAt } });
        }
        await tx.subscriptionPhase.create({ data: { subscriptionId: subscription.id, ...change.newPhase } });
        return tx.customerSubscription.update({ ...query, where: { id: subscription.id }, data: { updatedAt: new Date() } });
      }));
    },
  }),
  cancelSubscription: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    args: { input: t.arg({ type: CancelSubscriptionInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const subscription = await ownedSubscription(context, input.subscriptionId, "input.subscriptionId");
      requireRunning(subscription, new Date(), "input.subscriptionId");
      return withChangeEvents(context, [subscription.customerId], "SUBSCRIPTION_CHANGED", () =>
        context.prisma.customerSubscription.update({ ...query, where: { id: subscription.id }, data: { canceledAt: input.at ?? new Date() } }),
      );
    },
  }),
  addSubscriptionAddon: t.prismaField({
    type: "SubscriptionAddon",
    authScopes: { write: true },
    args: { input: t.arg({ type: AddSubscriptionAddonInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const subscription = await ownedSubscription(context, input.subscriptionId, "input.subscriptionId");
      const addon = await usablePlan(context, input.addonId, "input.addonId", "ADDON");
      const startsAt = input.startsAt ?? latest(new Date(), subscription.startsAt);
      requireAfter(startsAt, input.endsAt, "input.endsAt", "startsAt");
      requireRunning(subscription, startsAt, "input.startsAt");
      return withChangeEvents(context, [subscription.customerId], "SUBSCRIPTION_CHANGED", () => context.prisma.subscriptionAddon.create({
        ...query,
        data: {
          subscriptionId: subscription.id,
          addonId: addon.id,
          quantity: input.quantity ?? 1,
          startsAt,
          endsAt: input.endsAt ?? null,
        },
      }));
    },
  }),
  removeSubscriptionAddon: t.prismaField({
    type: "SubscriptionAddon",
    authScopes: { write: true },
    description: "Ends the add-on at `at` (default: now); its history stays.",
    args: {
      id: t.arg.id({ required: true }).validate(globalId("SubscriptionAddon")),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: async (query, _root, args, context) => {
      const addon = await context.prisma.subscriptionAddon.findFirst({
        where: { id: args.id, subscription: { projectId: projectIdOf(context) } },
        include: { subscription: { select: { customerId: true } } },
      });
      if (!addon) throw notFound("Subscription add-on", "id");
      const at = args.at ?? new Date();
      if (addon.endsAt && !isBefore(at, addon.endsAt)) {
        throw invalidOperation(`The add-on already ends at ${addon.endsAt.toISOString()}`, "at");
      }
      return withChangeEvents(context, [addon.subscription.customerId], "SUBSCRIPTION_CHANGED", () =>
        context.prisma.subscriptionAddon.update({ ...query, where: { id: addon.id }, data: { endsAt: latest(at, addon.startsAt) } }),
      );
    },
  }),
  setSubscriptionOverride: t.prismaField({
    type: "SubscriptionOverride",
    authScopes: { write: true },
    description: "Replaces the plan's value for one feature on this subscription; unset fields inherit from the plan.",
    args: { input: t.arg({ type: SetSubscriptionOverrideInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const subscription = await ownedSubscription(context, input.subscriptionId, "input.subscriptionId");
      const feature = await featureByKey(context, input.featureKey, "input.featureKey");
      const key = { subscriptionId_featureId: { subscriptionId: subscription.id, featureId: feature.id } };
      const existing = await context.prisma.subscriptionOverride.findUnique({ where: key });
      if (feature.status === "ARCHIVED" && (!existing || existing.removedAt)) {
        throw invalidOperation(`Feature "${feature.key}" is archived and cannot be overridden anew`, "input.featureKey");
      }
      const phase = representativePhase(subscription.phases, new Date());
      const planValue = phase ? await context.loaders.planEntitlement.load(`${phase.planId}:${feature.id}`) : null;
      const given = pickValueInput(input);
      const checked = checkEntitlementValue(
        { key: feature.key, type: feature.type, levels: featureLevels(feature) },
        mergeEntitlementValue(planValue, given),
      );
      if (!checked.ok) {
        throw validationFailed(checked.problems.map((problem) => ({ ...problem, field: `input.${problem.field}` })));
      }
      const stored = {
        isEnabled: given.isEnabled ?? null,
        usageLimit: given.usageLimit ?? null,
        isUnlimited: given.isUnlimited ?? (given.usageLimit !== null && given.usageLimit !== undefined ? false : null),
        resetPeriod: given.resetPeriod ?? null,
        isSoftLimit: given.isSoftLimit ?? null,
        staticValue: given.staticValue ?? null,
      };
      return withChangeEvents(context, [subscription.customerId], "SUBSCRIPTION_CHANGED", () =>
        context.prisma.subscriptionOverride.upsert({
          ...query,
          where: key,
          create: { subscriptionId: subscription.id, featureId: feature.id, ...stored },
          update: { ...stored, removedAt: null },
        }),
      );
    },
  }),
  removeSubscriptionOverride: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    args: {
      subscriptionId: t.arg.id({ required: true }).validate(globalId("CustomerSubscription")),
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
    },
    resolve: async (query, _root, args, context) => {
      const subscription = await ownedSubscription(context, args.subscriptionId, "subscriptionId");
      const feature = await featureByKey(context, args.featureKey, "featureKey");
      const { count } = await withChangeEvents(context, [subscription.customerId], "SUBSCRIPTION_CHANGED", () =>
        context.prisma.subscriptionOverride.updateMany({
          where: { subscriptionId: subscription.id, featureId: feature.id, removedAt: null },
          data: { removedAt: new Date() },
        }),
      );
      if (count === 0) throw notFound("Override for feature", "featureKey", feature.key);
      return context.prisma.customerSubscription.findUniqueOrThrow({ ...query, where: { id: subscription.id } });
    },
  }),
}));
