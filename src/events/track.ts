// Tells subscribers what a write changed (SPEC §6): each affected customer's observable
// entitlements are compared before and after, and only differences are published.
import { cachedRowsWrite, projectIdOf, type Context } from "../context.ts";
import { changedFeatureKeys, snapshotOf, type EntitlementSnapshot } from "../domain/changes.ts";
import { entitlementsAt, type CustomerState, type Entitlement, type PlanEntitlementRow } from "../domain/entitlements.ts";
import type { EntitlementValue } from "../domain/entitlement-value.ts";
import { createLoaders, type Loaders } from "../loaders/index.ts";
import { featureInfo, usageKeyOf } from "../loaders/customer-state.ts";
import type { ChangeCause, EntitlementChange, EventBus } from "./bus.ts";

/** The observable state of a customer's evaluated entitlements, with usage for hasAccess. */
export async function snapshotOfEntitlements(loaders: Loaders, customerId: string, entitlements: readonly Entitlement[]): Promise<EntitlementSnapshot> {
  const used = await Promise.all(
    entitlements.map((entitlement) =>
      entitlement.feature.type === "METERED" ? loaders.usage.load(usageKeyOf(customerId, entitlement)) : 0,
    ),
  );
  return snapshotOf(entitlements, (entitlement) => used[entitlements.indexOf(entitlement)] ?? 0);
}

/** A customer's observable entitlements at `now` in `state`. */
const snapshotOfState = (loaders: Loaders, customerId: string, state: CustomerState, now: Date) =>
  snapshotOfEntitlements(loaders, customerId, entitlementsAt(state, now));

/** Each customer's observable entitlements now, read afresh (no request cache; the instance's cache is kept current by writes). */
async function snapshots(context: Context, projectId: string, customerIds: readonly string[]) {
  const loaders = createLoaders(context.prisma, projectId, context.cache);
  const now = new Date();
  const entries = await Promise.all(
    customerIds.map(async (customerId): Promise<[string, EntitlementSnapshot]> => {
      const { state } = await loaders.customerState.load(customerId);
      return [customerId, await snapshotOfState(loaders, customerId, state, now)];
    }),
  );
  return new Map(entries);
}

/** Publishes a change of these feature keys, if there are any; true when it did. */
export function publishChange(
  events: EventBus,
  change: Omit<EntitlementChange, "occurredAt"> & { occurredAt?: Date },
): boolean {
  if (change.changedFeatureKeys.length === 0) return false;
  events.publish({ ...change, occurredAt: (change.occurredAt ?? new Date()).toISOString() });
  return true;
}

const publishDifference = (
  events: EventBus,
  projectId: string,
  customerId: string,
  cause: ChangeCause,
  before: EntitlementSnapshot,
  after: EntitlementSnapshot,
) => publishChange(events, { projectId, customerId, cause, changedFeatureKeys: changedFeatureKeys(before, after) });

/** Runs a write that concerns a few known customers, then publishes what it changed for them. */
export async function withChangeEvents<T>(
  context: Context,
  customerIds: readonly string[],
  cause: ChangeCause,
  write: () => Promise<T>,
): Promise<T> {
  const projectId = projectIdOf(context);
  const ids = [...new Set(customerIds)];
  const before = await snapshots(context, projectId, ids);
  const result = await cachedRowsWrite(context, cause === "USAGE_CHANGED" ? { usageOf: ids } : { customerIds: ids }, write);
  const after = await snapshots(context, projectId, ids);
  for (const customerId of ids) {
    publishDifference(context.events, projectId, customerId, cause, before.get(customerId) ?? new Map(), after.get(customerId) ?? new Map());
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
export const FAN_OUT_BATCH = 200;

/**
 * After a plan entitlement was edited: every customer on the plan (now or scheduled, as a
 * plan or an add-on) is evaluated with the old and the new value, in bounded batches, and
 * told of differences. Runs after the response; the returned promise is for tests and logs.
 */
export async function fanOutPlanChange(
  context: Pick<Context, "prisma" | "events">,
  change: PlanEntitlementChange,
  batchSize = FAN_OUT_BATCH,
): Promise<number> {
  const { projectId, planId, featureId } = change;
  // A removed entitlement may leave the feature out of the loaded state: the old value needs it.
  const featureRow = await context.prisma.feature.findUniqueOrThrow({ where: { id: featureId } });
  const current = { OR: [{ endsAt: null }, { endsAt: { gt: new Date() } }] };
  let cursor: string | undefined;
  let told = 0;
  for (;;) {
    const page = await context.prisma.customer.findMany({
      where: {
        projectId,
        subscriptions: { some: { OR: [{ phases: { some: { planId, ...current } } }, { addons: { some: { addonId: planId, ...current } } }] } },
      },
      select: { id: true },
      orderBy: { id: "asc" },
      take: batchSize,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (page.length === 0) return told;
    const loaders = createLoaders(context.prisma, projectId);
    const now = new Date();
    await Promise.all(
      page.map(async ({ id: customerId }) => {
        const { state } = await loaders.customerState.load(customerId);
        const others = state.planEntitlements.filter((row) => row.planId !== planId || row.featureId !== featureId);
        const previous: PlanEntitlementRow[] = change.before ? [...others, { planId, featureId, value: change.before }] : others;
        const features = new Map([...state.features, [featureId, featureInfo(featureRow)]]);
        const [before, after] = await Promise.all([
          snapshotOfState(loaders, customerId, { ...state, features, planEntitlements: previous }, now),
          snapshotOfState(loaders, customerId, state, now),
        ]);
        if (publishDifference(context.events, projectId, customerId, "CATALOG_CHANGED", before, after)) told++;
      }),
    );
    cursor = page.at(-1)?.id;
    if (page.length < batchSize) return told;
  }
}
