// Customer subscriptions: a customer on a plan over time, with phases, add-ons and overrides.
import { builder } from "./builder.ts";
import { SubscriptionStatusEnum } from "./enums.ts";
import { CustomerNode, CustomerRef } from "./customer.ts";
import { PlanNode } from "./plan.ts";
import { catalogKey, globalId, quantity } from "./inputs.ts";
import { entitlementValueInputFields, entitlementValueOutputFields } from "./entitlement-value.ts";
import { asSelected } from "./lookup.ts";
import { projectIdOf, scopeOf, type Context } from "../context.ts";
import { representativePhase } from "../domain/phases.ts";
import { subscriptionStatus, type SubscriptionStatus } from "../domain/subscription-status.ts";
import { notRemovedWhere, onPlanWhere, subscriptionStatusWhere } from "../db/rules-in-sql.ts";
import type { CustomerSubscription, Prisma, SubscriptionAddon } from "../generated/prisma/client.ts";
import * as subscriptions from "../services/subscriptions.ts";

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
      query: { where: notRemovedWhere, orderBy: { createdAt: "asc" } },
    }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

function currentPhase<P extends { planId: string; quantity: number; startsAt: Date; endsAt: Date | null; id: string }>(phases: P[]): P {
  const phase = representativePhase(phases, new Date());
  if (!phase) throw new Error("A subscription without phases was found");
  return phase;
}

const SubscriptionConnection = builder.connectionObject(
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
  findUnique: (id, context) => ({ id, ...notRemovedWhere, subscription: { projectId: projectIdOf(context) } }),
  fields: (t) => ({
    subscription: t.relation("subscription"),
    feature: t.relation("feature"),
  }),
});
builder.objectFields(OverrideNode, (t) =>
  entitlementValueOutputFields(t, (override, context) => subscriptions.overrideValueNow(context.loaders, override)),
);

// ---- Status filters ----------------------------------------------------------------------

const statusFilter = (statuses: readonly SubscriptionStatus[] | null | undefined, at: Date | null | undefined) =>
  statuses && statuses.length > 0 ? subscriptionStatusWhere(statuses, at ?? new Date()) : {};

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
  AND: [onPlanWhere(planId, new Date()), statusFilter(statuses, null)],
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

export const ChangeSubscriptionPlanInput = builder.inputType("ChangeSubscriptionPlanInput", {
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

// ---- Mutations ---------------------------------------------------------------------------

const asSelectedSubscription = (query: object, context: Context, row: CustomerSubscription) =>
  asSelected(query, row, (selected) => context.prisma.customerSubscription.findUniqueOrThrow(selected));
const asSelectedAddon = (query: object, context: Context, row: SubscriptionAddon) =>
  asSelected(query, row, (selected) => context.prisma.subscriptionAddon.findUniqueOrThrow(selected));

builder.mutationFields((t) => ({
  createSubscription: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateSubscriptionInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelectedSubscription(query, context, await subscriptions.createSubscription(scopeOf(context), input)),
  }),
  changeSubscriptionPlan: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    description: "Closes the phase in force at `at` and opens one on the new plan from `at`.",
    args: { input: t.arg({ type: ChangeSubscriptionPlanInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelectedSubscription(query, context, await subscriptions.changeSubscriptionPlan(scopeOf(context), input)),
  }),
  cancelSubscription: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    args: { input: t.arg({ type: CancelSubscriptionInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelectedSubscription(query, context, await subscriptions.cancelSubscription(scopeOf(context), input)),
  }),
  addSubscriptionAddon: t.prismaField({
    type: "SubscriptionAddon",
    authScopes: { write: true },
    args: { input: t.arg({ type: AddSubscriptionAddonInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelectedAddon(query, context, await subscriptions.addSubscriptionAddon(scopeOf(context), input)),
  }),
  removeSubscriptionAddon: t.prismaField({
    type: "SubscriptionAddon",
    authScopes: { write: true },
    description: "Ends the add-on at `at` (default: now); its history stays.",
    args: {
      id: t.arg.id({ required: true }).validate(globalId("SubscriptionAddon")),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: async (query, _root, args, context) =>
      asSelectedAddon(query, context, await subscriptions.removeSubscriptionAddon(scopeOf(context), args.id, args.at)),
  }),
  setSubscriptionOverride: t.prismaField({
    type: "SubscriptionOverride",
    authScopes: { write: true },
    description: "Replaces the plan's value for one feature on this subscription; unset fields inherit from the plan.",
    args: { input: t.arg({ type: SetSubscriptionOverrideInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await subscriptions.setSubscriptionOverride(scopeOf(context), input), (selected) =>
        context.prisma.subscriptionOverride.findUniqueOrThrow(selected),
      ),
  }),
  removeSubscriptionOverride: t.prismaField({
    type: "CustomerSubscription",
    authScopes: { write: true },
    args: {
      subscriptionId: t.arg.id({ required: true }).validate(globalId("CustomerSubscription")),
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
    },
    resolve: async (query, _root, args, context) =>
      // Read again whatever was selected: the subscription's overrides just changed.
      context.prisma.customerSubscription.findUniqueOrThrow({
        ...query,
        where: { id: (await subscriptions.removeSubscriptionOverride(scopeOf(context), args)).id },
      }),
  }),
}));
