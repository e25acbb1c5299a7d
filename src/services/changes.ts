// Tells subscribers what a write changed (docs/rules.md §6): each affected customer's
// observable entitlements are compared before and after, and only differences are published.
import { changedFeatureKeys, type EntitlementSnapshot } from "../domain/changes.ts";
import type { PlanEntitlementRow } from "../domain/entitlements.ts";
import type { EntitlementValue } from "../domain/entitlement-value.ts";
import type { ChangeCause, EntitlementChange, EventBus } from "../events/bus.ts";
import { createLoaders } from "../loaders/index.ts";
import { featureInfo } from "../loaders/customer-state.ts";
import { onPlanWhere } from "../db/rules-in-sql.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { observedAt } from "./entitlements.ts";
import { invalidatingWrite, type Infrastructure, type ProjectScope } from "./scope.ts";

/**
 * The changes a subscriber hears: one customer's (a customer token's own, always) or, with
 * no customer, every customer's of the project; with `featureKeys`, those that changed one.
 */
export async function watchChanges(scope: ProjectScope, input: { customer?: CustomerRef | null; featureKeys?: readonly string[] | null }) {
  const customerId = input.customer ? (await resolveCustomerRef(scope, input.customer, "customer")).id : (scope.visibleCustomerId ?? null);
  return scope.events.subscribe(scope.projectId, customerId, input.featureKeys ?? null);
}

/** Publishes a change of these feature keys, if there are any; true when it did. */
export function publishChange(events: EventBus, change: Omit<EntitlementChange, "occurredAt"> & { occurredAt?: Date }): boolean {
  if (change.changedFeatureKeys.length === 0) return false;
  events.publish({ ...change, occurredAt: (change.occurredAt ?? new Date()).toISOString() });
  return true;
}

/** Publishes what differs between two observations of one customer; true when something did. */
const publishDifference = (
  events: EventBus,
  change: Pick<EntitlementChange, "projectId" | "customerId" | "cause"> & { occurredAt?: Date },
  before: EntitlementSnapshot,
  after: EntitlementSnapshot,
) => publishChange(events, { ...change, changedFeatureKeys: changedFeatureKeys(before, after) });

/** Each customer's observable entitlements now, read afresh (no request memo; the instance's cache is kept current by writes). */
async function observeNow(scope: ProjectScope, customerIds: readonly string[]) {
  const loaders = createLoaders(scope.prisma, scope.projectId, scope.cache);
  const now = new Date();
  return new Map(
    await Promise.all(customerIds.map(async (customerId) => [customerId, await observedAt(loaders, customerId, now)] as const)),
  );
}

/**
 * Runs a write that concerns a few known customers, invalidating what it changed, then
 * publishes what it changed for them.
 */
export async function withChangeEvents<T>(
  scope: ProjectScope,
  customerIds: readonly string[],
  cause: ChangeCause,
  write: () => Promise<T>,
): Promise<T> {
  const ids = [...new Set(customerIds)];
  const before = await observeNow(scope, ids);
  const result = await invalidatingWrite(scope, cause === "USAGE_CHANGED" ? { usageOf: ids } : { customerIds: ids }, write);
  const after = await observeNow(scope, ids);
  for (const customerId of ids) {
    publishDifference(
      scope.events,
      { projectId: scope.projectId, customerId, cause },
      before.get(customerId) ?? new Map(),
      after.get(customerId) ?? new Map(),
    );
  }
  return result;
}

export interface PlanEntitlementChange {
  projectId: string;
  planId: string;
  featureId: string;
  /** The plan's value for the feature before the edit (null: it had none). */
  before: EntitlementValue | null;
}

/** How many customers one step of a catalog fan-out evaluates. */
const FAN_OUT_BATCH = 200;

/**
 * After a plan entitlement was edited: every customer on the plan (now or scheduled, as a
 * plan or an add-on) is evaluated with the old and the new value, in bounded batches, and
 * told of differences. Runs after the response; the returned promise is for tests and logs.
 */
export async function fanOutPlanChange(
  infrastructure: Pick<Infrastructure, "prisma" | "events">,
  change: PlanEntitlementChange,
  batchSize = FAN_OUT_BATCH,
): Promise<number> {
  const { prisma, events } = infrastructure;
  const { projectId, planId, featureId } = change;
  // A removed entitlement may leave the feature out of the loaded state: the old value needs it.
  const featureRow = await prisma.feature.findUniqueOrThrow({ where: { id: featureId } });
  let cursor: string | undefined;
  let told = 0;
  for (;;) {
    const page = await prisma.customer.findMany({
      where: {
        projectId,
        subscriptions: { some: onPlanWhere(planId, new Date(), { addons: true }) },
      },
      select: { id: true },
      orderBy: { id: "asc" },
      take: batchSize,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (page.length === 0) return told;
    const loaders = createLoaders(prisma, projectId);
    const now = new Date();
    await Promise.all(
      page.map(async ({ id: customerId }) => {
        const { state } = await loaders.customerState.load(customerId);
        const others = state.planEntitlements.filter((row) => row.planId !== planId || row.featureId !== featureId);
        const previous: PlanEntitlementRow[] = change.before ? [...others, { planId, featureId, value: change.before }] : others;
        const features = new Map([...state.features, [featureId, featureInfo(featureRow)]]);
        const [before, after] = await Promise.all([
          observedAt(loaders, customerId, now, { state: { ...state, features, planEntitlements: previous } }),
          observedAt(loaders, customerId, now, { state }),
        ]);
        if (publishDifference(events, { projectId, customerId, cause: "CATALOG_CHANGED" }, before, after)) told++;
      }),
    );
    cursor = page.at(-1)?.id;
    if (page.length < batchSize) return told;
  }
}
