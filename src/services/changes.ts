// Tells subscribers what a write changed (docs/rules.md §6): each affected customer's
// observable entitlements are compared before and after, and only differences are published.
// Usage writes, the most frequent by far, evaluate only what a record can flip.
import { changedFeatureKeys, usageCanFlipAccess, usageFlippedAccess, type EntitlementSnapshot } from "../domain/changes.ts";
import type { PlanEntitlementRow } from "../domain/entitlements.ts";
import type { EntitlementValue } from "../domain/entitlement-value.ts";
import type { ChangeCause, EntitlementChange, EventBus } from "../events/bus.ts";
import { createLoaders } from "../loaders/index.ts";
import { usageKeyOf } from "../loaders/usage.ts";
import { featureInfo } from "../loaders/customer-state.ts";
import { notEndedByWhere, notRemovedWhere, onPlanWhere } from "../db/rules-in-sql.ts";
import type { CustomerState } from "../domain/entitlements.ts";
import type { Feature, Prisma, UsageRecord } from "../generated/prisma/client.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { observedAt, readEntitlements } from "./entitlements.ts";
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
  const result = await invalidatingWrite(scope, { customerIds: ids }, write);
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

/** What a usage write inserted, as far as change tracking needs it. */
export type InsertedUsage = Pick<UsageRecord, "customerId" | "featureId" | "quantity" | "timestamp">;

/**
 * Runs a usage write for these customers (answering the records it inserted, repeats of an
 * idempotency key left out), invalidating their usage, then publishes the features whose
 * access the new records flipped: one event per customer. A record can flip only its own
 * feature's hasAccess, and only when that feature is enabled with a finite hard limit and
 * the record counts in the current period, so only those (customer, feature) pairs are
 * evaluated, each once, from the usage read after the write (before it is that less the new
 * records); a write with no such pair reads nothing more than its write.
 */
export async function withUsageChangeEvents<T extends { inserted: readonly InsertedUsage[] }>(
  scope: ProjectScope,
  customerIds: readonly string[],
  at: Date,
  write: () => Promise<T>,
): Promise<T> {
  const result = await invalidatingWrite(scope, { usageOf: [...new Set(customerIds)] }, write);
  if (result.inserted.length === 0) return result;
  const byCustomer = new Map<string, InsertedUsage[]>();
  for (const record of result.inserted) {
    const records = byCustomer.get(record.customerId);
    if (records) records.push(record);
    else byCustomer.set(record.customerId, [record]);
  }
  const loaders = createLoaders(scope.prisma, scope.projectId, scope.cache);
  // Every (customer, entitlement) the new records can flip, with what they added to it.
  const candidates = (
    await Promise.all(
      [...byCustomer].map(async ([customerId, records]) => {
        const featureIds = [...new Set(records.map((record) => record.featureId))];
        const entitlements = await readEntitlements(loaders, customerId, at, { filters: { featureIds } });
        return entitlements.flatMap(({ entitlement }) => {
          const counted = records.filter(
            (record) => record.featureId === entitlement.feature.id && usageCanFlipAccess(entitlement, record.timestamp),
          );
          const added = counted.reduce((sum, record) => sum + record.quantity, 0);
          return counted.length > 0 ? [{ customerId, entitlement, added }] : [];
        });
      }),
    )
  ).flat();
  // Their usage after the write, all in one read.
  const used = await loaders.usageSums(candidates.map(({ customerId, entitlement }) => usageKeyOf(customerId, entitlement)));
  const flipped = new Map<string, string[]>();
  candidates.forEach(({ customerId, entitlement, added }, index) => {
    if (!usageFlippedAccess(entitlement, used[index] ?? 0, added)) return;
    flipped.set(customerId, [...(flipped.get(customerId) ?? []), entitlement.feature.key]);
  });
  for (const [customerId, changedFeatureKeys] of flipped) {
    publishChange(scope.events, {
      projectId: scope.projectId,
      customerId,
      cause: "USAGE_CHANGED",
      changedFeatureKeys: changedFeatureKeys.sort(),
    });
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
 * Walks the project's customers that `where` finds, in bounded batches, and tells each one
 * whose observation differs between the state before an edit (`previous` of the state read
 * now) and the state now. Runs after the response; returns how many were told.
 */
async function fanOut(
  infrastructure: Pick<Infrastructure, "prisma" | "events">,
  projectId: string,
  where: Prisma.CustomerWhereInput,
  previous: (state: CustomerState) => CustomerState,
  batchSize: number,
): Promise<number> {
  const { prisma, events } = infrastructure;
  let cursor: string | undefined;
  let told = 0;
  for (;;) {
    const page = await prisma.customer.findMany({
      where: { projectId, ...where },
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
        const [before, after] = await Promise.all([
          observedAt(loaders, customerId, now, { state: previous(state) }),
          observedAt(loaders, customerId, now, { state }),
        ]);
        if (publishDifference(events, { projectId, customerId, cause: "CATALOG_CHANGED" }, before, after)) told++;
      }),
    );
    cursor = page.at(-1)?.id;
    if (page.length < batchSize) return told;
  }
}

/**
 * After a plan entitlement was edited: every customer on the plan (now or scheduled, as a
 * plan or an add-on) is evaluated with the old and the new value, and told of differences.
 */
export async function fanOutPlanChange(
  infrastructure: Pick<Infrastructure, "prisma" | "events">,
  change: PlanEntitlementChange,
  batchSize = FAN_OUT_BATCH,
): Promise<number> {
  const { projectId, planId, featureId } = change;
  // A removed entitlement may leave the feature out of the loaded state: the old value needs it.
  const featureRow = await infrastructure.prisma.feature.findUniqueOrThrow({ where: { id: featureId } });
  const where = { subscriptions: { some: onPlanWhere(planId, new Date(), { addons: true }) } };
  return fanOut(
    infrastructure,
    projectId,
    where,
    (state) => {
      const others = state.planEntitlements.filter((row) => row.planId !== planId || row.featureId !== featureId);
      const previous: PlanEntitlementRow[] = change.before ? [...others, { planId, featureId, value: change.before }] : others;
      return { ...state, features: new Map([...state.features, [featureId, featureInfo(featureRow)]]), planEntitlements: previous };
    },
    batchSize,
  );
}

/**
 * After a feature's own rules were edited (its levels, which rank `staticValues`): every
 * customer the feature reaches — through a plan or add-on that includes it, an override or a
 * grant of it — is evaluated with the old and the new feature, and told of differences.
 */
export async function fanOutFeatureChange(
  infrastructure: Pick<Infrastructure, "prisma" | "events">,
  change: { projectId: string; before: Feature },
  batchSize = FAN_OUT_BATCH,
): Promise<number> {
  const { id: featureId } = change.before;
  const now = new Date();
  const includesFeature = { entitlements: { some: { featureId, ...notRemovedWhere } } };
  const where: Prisma.CustomerWhereInput = {
    OR: [
      {
        subscriptions: {
          some: {
            OR: [
              { phases: { some: { plan: includesFeature, ...notEndedByWhere(now) } } },
              { addons: { some: { addon: includesFeature, ...notEndedByWhere(now) } } },
              { overrides: { some: { featureId, ...notRemovedWhere } } },
            ],
          },
        },
      },
      // Any grant of it: an ended one differs in nothing, so it is compared and not told.
      { grants: { some: { featureId } } },
    ],
  };
  const old = featureInfo(change.before);
  return fanOut(
    infrastructure,
    change.projectId,
    where,
    (state) => ({ ...state, features: new Map([...state.features, [featureId, old]]) }),
    batchSize,
  );
}
