// Customer subscriptions: a customer on a plan over time, with phases, add-ons and
// overrides. Each change is checked against the subscription's state at its instant.
import { resolveOverrideValue, type EntitlementValue, type EntitlementValueInput } from "../domain/entitlement-value.ts";
import { planChange, representativePhase, sortPhases } from "../domain/phases.ts";
import { subscriptionStatus, type SubscriptionTimes } from "../domain/subscription-status.ts";
import { isBefore, latest } from "../domain/time.ts";
import type {
  CustomerSubscription,
  Prisma,
  SubscriptionAddon,
  SubscriptionOverride,
  SubscriptionPhase,
} from "../generated/prisma/client.ts";
import type { Loaders } from "../loaders/index.ts";
import { notRemovedWhere } from "../db/rules-in-sql.ts";
import { invalidInput, invalidOperation, notFound } from "../errors.ts";
import { featureByKey, featureLevels, pickValue, requireOverridableValue, requireUsableFeature, usablePlan } from "./catalog.ts";
import { withChangeEvents } from "./changes.ts";
import { earlierEnd } from "./ends.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import type { ProjectScope } from "./scope.ts";

const SUBSCRIPTION_CHANGED = "SUBSCRIPTION_CHANGED";

async function ownedSubscription(scope: ProjectScope, id: string, field: string) {
  const subscription = await scope.prisma.customerSubscription.findFirst({
    where: { id, projectId: scope.projectId },
    include: { phases: true },
  });
  if (!subscription) throw notFound("Subscription", field);
  return subscription;
}

/** Refuses a change to a subscription that has already ended (canceled or expired) at `at`. */
function requireRunning(subscription: SubscriptionTimes, at: Date, field: string) {
  const status = subscriptionStatus(subscription, at);
  if (status === "CANCELED" || status === "EXPIRED") {
    throw invalidOperation(`The subscription is ${status} at ${at.toISOString()}`, field);
  }
}

/** An end must come after its start; `field` names the end in errors. */
function requireAfter(start: Date, end: Date | null | undefined, field: string, startName: string) {
  if (end && !isBefore(start, end)) throw invalidInput(field, `must be after ${startName} (${start.toISOString()})`);
}

export interface AddonInput {
  addonId: string;
  quantity?: number | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
}

export interface SubscriptionInput {
  customer: CustomerRef;
  planId: string;
  quantity?: number | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  trialEndsAt?: Date | null;
  billingAnchor?: Date | null;
  addons?: readonly AddonInput[] | null;
  metadata?: Prisma.InputJsonValue | null;
}

export async function createSubscription(scope: ProjectScope, input: SubscriptionInput): Promise<CustomerSubscription> {
  const startsAt = input.startsAt ?? new Date();
  requireAfter(startsAt, input.endsAt, "input.endsAt", "startsAt");
  requireAfter(startsAt, input.trialEndsAt, "input.trialEndsAt", "startsAt");
  if (input.trialEndsAt && input.endsAt && isBefore(input.endsAt, input.trialEndsAt)) {
    throw invalidInput("input.trialEndsAt", "must not be after endsAt");
  }
  const customer = await resolveCustomerRef(scope, input.customer, "input.customer");
  const plan = await usablePlan(scope, input.planId, "input.planId", "PLAN");
  const addons = await Promise.all(
    (input.addons ?? []).map(async (addon, index) => {
      const field = `input.addons.${index}`;
      const addonPlan = await usablePlan(scope, addon.addonId, `${field}.addonId`, "ADDON");
      const addonStart = addon.startsAt ?? startsAt;
      requireAfter(addonStart, addon.endsAt, `${field}.endsAt`, "startsAt");
      // As addSubscriptionAddon: an add-on cannot start once the subscription has ended.
      requireRunning({ startsAt, endsAt: input.endsAt ?? null, canceledAt: null, trialEndsAt: null }, addonStart, `${field}.startsAt`);
      return { addonId: addonPlan.id, quantity: addon.quantity ?? 1, startsAt: addonStart, endsAt: addon.endsAt ?? null };
    }),
  );
  return withChangeEvents(
    scope,
    [customer.id],
    SUBSCRIPTION_CHANGED,
    (tx) =>
      tx.customerSubscription.create({
        data: {
          projectId: scope.projectId,
          customerId: customer.id,
          startsAt,
          endsAt: input.endsAt ?? null,
          trialEndsAt: input.trialEndsAt ?? null,
          billingAnchor: input.billingAnchor ?? startsAt,
          metadata: input.metadata ?? undefined,
          phases: { create: { planId: plan.id, quantity: input.quantity ?? 1, startsAt } },
          addons: { create: addons },
        },
      }),
    "CustomerSubscription",
  );
}

/** Closes the phase in force at `at` and opens one on the new plan from `at`. */
export interface PlanChangeInput {
  subscriptionId: string;
  planId: string;
  quantity?: number | null;
  at?: Date | null;
}

/** A plan change checked as changeSubscriptionPlan checks it: the subscription, the instant and the phases it writes. */
export async function checkedPlanChange(scope: ProjectScope, input: PlanChangeInput) {
  const subscription = await ownedSubscription(scope, input.subscriptionId, "input.subscriptionId");
  const plan = await usablePlan(scope, input.planId, "input.planId", "PLAN");
  const at = latest(input.at ?? new Date(), subscription.startsAt);
  requireRunning(subscription, at, "input.at");
  return { subscription, at, change: planChange(sortPhases(subscription.phases), { planId: plan.id, quantity: input.quantity, at }) };
}

export async function changeSubscriptionPlan(scope: ProjectScope, input: PlanChangeInput): Promise<CustomerSubscription> {
  const { subscription, change } = await checkedPlanChange(scope, input);
  return withChangeEvents(
    scope,
    [subscription.customerId],
    SUBSCRIPTION_CHANGED,
    async (tx) => {
      await tx.subscriptionPhase.deleteMany({ where: { id: { in: change.removePhaseIds } } });
      if (change.closePhase) {
        await tx.subscriptionPhase.update({ where: { id: change.closePhase.id }, data: { endsAt: change.closePhase.endsAt } });
      }
      await tx.subscriptionPhase.create({ data: { subscriptionId: subscription.id, ...change.newPhase } });
      return tx.customerSubscription.update({ where: { id: subscription.id }, data: { updatedAt: new Date() } });
    },
    "CustomerSubscription",
  );
}

/** Cancels now (entitlements end now) or at `at`. */
export async function cancelSubscription(
  scope: ProjectScope,
  input: { subscriptionId: string; at?: Date | null },
): Promise<CustomerSubscription> {
  const subscription = await ownedSubscription(scope, input.subscriptionId, "input.subscriptionId");
  requireRunning(subscription, new Date(), "input.subscriptionId");
  return withChangeEvents(
    scope,
    [subscription.customerId],
    SUBSCRIPTION_CHANGED,
    (tx) => tx.customerSubscription.update({ where: { id: subscription.id }, data: { canceledAt: input.at ?? new Date() } }),
    "CustomerSubscription",
  );
}

export async function addSubscriptionAddon(
  scope: ProjectScope,
  input: AddonInput & { subscriptionId: string },
): Promise<SubscriptionAddon> {
  const subscription = await ownedSubscription(scope, input.subscriptionId, "input.subscriptionId");
  const addon = await usablePlan(scope, input.addonId, "input.addonId", "ADDON");
  const startsAt = input.startsAt ?? latest(new Date(), subscription.startsAt);
  requireAfter(startsAt, input.endsAt, "input.endsAt", "startsAt");
  requireRunning(subscription, startsAt, "input.startsAt");
  return withChangeEvents(
    scope,
    [subscription.customerId],
    SUBSCRIPTION_CHANGED,
    (tx) =>
      tx.subscriptionAddon.create({
        data: { subscriptionId: subscription.id, addonId: addon.id, quantity: input.quantity ?? 1, startsAt, endsAt: input.endsAt ?? null },
      }),
    "SubscriptionAddon",
  );
}

/** Ends the add-on at `at` (default: now; only earlier than an end already set); its history stays. */
export async function removeSubscriptionAddon(scope: ProjectScope, id: string, at: Date | null | undefined): Promise<SubscriptionAddon> {
  const addon = await scope.prisma.subscriptionAddon.findFirst({
    where: { id, subscription: { projectId: scope.projectId } },
    include: { subscription: { select: { customerId: true } } },
  });
  if (!addon) throw notFound("Subscription add-on", "id");
  const endsAt = earlierEnd("add-on", addon.endsAt, at);
  return withChangeEvents(
    scope,
    [addon.subscription.customerId],
    SUBSCRIPTION_CHANGED,
    (tx) => tx.subscriptionAddon.update({ where: { id: addon.id }, data: { endsAt: latest(endsAt, addon.startsAt) } }),
    "SubscriptionAddon",
  );
}

/** The plan's value for a feature in the phase shown now (null: the plan gives none). */
async function currentPlanValue(loaders: Loaders, phases: readonly SubscriptionPhase[], featureId: string) {
  const phase = representativePhase(phases, new Date());
  return phase ? loaders.planEntitlement.load({ planId: phase.planId, featureId }) : null;
}

/** Replaces the plan's value for one feature on this subscription; unset fields inherit from the plan. */
export async function setSubscriptionOverride(
  scope: ProjectScope,
  input: EntitlementValueInput & { subscriptionId: string; featureKey: string },
): Promise<SubscriptionOverride> {
  const subscription = await ownedSubscription(scope, input.subscriptionId, "input.subscriptionId");
  const feature = await featureByKey(scope, input.featureKey, "input.featureKey");
  const key = { subscriptionId_featureId: { subscriptionId: subscription.id, featureId: feature.id } };
  const existing = await scope.prisma.subscriptionOverride.findUnique({ where: key });
  requireUsableFeature(feature, existing !== null && existing.removedAt === null, "overridden", "input.featureKey");
  const given = pickValue(input);
  requireOverridableValue(feature, await currentPlanValue(scope.loaders, subscription.phases, feature.id), given);
  const stored = {
    isEnabled: given.isEnabled ?? null,
    usageLimit: given.usageLimit ?? null,
    isUnlimited: given.isUnlimited ?? (given.usageLimit !== null && given.usageLimit !== undefined ? false : null),
    resetPeriod: given.resetPeriod ?? null,
    isSoftLimit: given.isSoftLimit ?? null,
    staticValue: given.staticValue ?? null,
  };
  return withChangeEvents(
    scope,
    [subscription.customerId],
    SUBSCRIPTION_CHANGED,
    (tx) =>
      tx.subscriptionOverride.upsert({
        where: key,
        create: { subscriptionId: subscription.id, featureId: feature.id, ...stored },
        update: { ...stored, removedAt: null },
      }),
    "SubscriptionOverride",
  );
}

/** Gives the feature back to the plan on this subscription; returns the subscription. */
export async function removeSubscriptionOverride(
  scope: ProjectScope,
  input: { subscriptionId: string; featureKey: string },
): Promise<CustomerSubscription> {
  const subscription = await ownedSubscription(scope, input.subscriptionId, "subscriptionId");
  const feature = await featureByKey(scope, input.featureKey, "featureKey");
  await withChangeEvents(
    scope,
    [subscription.customerId],
    SUBSCRIPTION_CHANGED,
    async (tx) => {
      const { count } = await tx.subscriptionOverride.updateMany({
        where: { subscriptionId: subscription.id, featureId: feature.id, ...notRemovedWhere },
        data: { removedAt: new Date() },
      });
      // Refused inside the transaction: a refused mutation leaves no audit entry.
      if (count === 0) throw notFound("Override for feature", "featureKey", feature.key);
    },
    () => ({ type: "CustomerSubscription", id: subscription.id }),
  );
  return subscription;
}

/** An override's value now: its own fields, the rest inherited from the current plan's entitlement. */
export async function overrideValueNow(loaders: Loaders, override: SubscriptionOverride): Promise<EntitlementValue> {
  const [feature, phases] = await Promise.all([
    loaders.featureById.load(override.featureId),
    loaders.phasesBySubscriptionId.load(override.subscriptionId),
  ]);
  if (!feature) throw new Error(`Override ${override.id} refers to a missing feature`);
  const planValue = await currentPlanValue(loaders, phases, feature.id);
  return resolveOverrideValue({ key: feature.key, type: feature.type, levels: featureLevels(feature) }, override, planValue);
}
