// The entitlements reader: "this customer's entitlements and usage at t", the one path by
// which queries, checks, consume, subscriptions, change tracking and the transition scan
// evaluate a customer. The rules are src/domain/entitlements.ts's; this module gives them
// the loaded rows and the usage of each entitlement's current period.
import { snapshotOf, type EntitlementSnapshot } from "../domain/changes.ts";
import { entitlementsAt, type CustomerState, type Entitlement, type EntitlementFilters } from "../domain/entitlements.ts";
import type { EntitlementChange } from "../events/bus.ts";
import { createLoaders, type Loaders } from "../loaders/index.ts";
import { usageKeyOf } from "../loaders/usage.ts";
import type { Infrastructure } from "./scope.ts";

/** An aggregate as evaluated for one customer at one instant. */
export interface EvaluatedEntitlement {
  customerId: string;
  at: Date;
  entitlement: Entitlement;
  /** Usage in the entitlement's current period (0 unless METERED), loaded on first ask, once. */
  used: () => Promise<number>;
  /** The same once loaded (always for a feature that is not METERED), so that it can be read without waiting. */
  usedIfLoaded: number | undefined;
}

function evaluated(loaders: Loaders, customerId: string, at: Date, entitlement: Entitlement): EvaluatedEntitlement {
  const metered = entitlement.feature.type === "METERED";
  let used: Promise<number> | undefined;
  const result: EvaluatedEntitlement = {
    customerId,
    at,
    entitlement,
    usedIfLoaded: metered ? undefined : 0,
    used: () =>
      (used ??=
        result.usedIfLoaded !== undefined
          ? Promise.resolve(result.usedIfLoaded)
          : loaders.usage.load(usageKeyOf(customerId, entitlement)).then((sum) => (result.usedIfLoaded = sum))),
  };
  return result;
}

/**
 * Loads the usage of all these entitlements at once, for readers about to read each one's:
 * what the cache holds is taken as it is, the rest loaded in one batch. A failure is left to
 * each entitlement's own `used()`, which answers with it.
 */
export async function loadUsage(loaders: Loaders, entitlements: readonly EvaluatedEntitlement[]): Promise<void> {
  const unknown = entitlements.filter((entry) => entry.usedIfLoaded === undefined);
  if (unknown.length === 0) return;
  const held = loaders.heldUsage(unknown.map((entry) => usageKeyOf(entry.customerId, entry.entitlement)));
  unknown.forEach((entry, index) => {
    entry.usedIfLoaded ??= held[index];
  });
  await Promise.allSettled(unknown.flatMap((entry) => (entry.usedIfLoaded === undefined ? [entry.used()] : [])));
}

export interface ReadOptions {
  filters?: EntitlementFilters;
  /** Evaluate this state instead of the customer's stored one (what it was, or would be, after an edit). */
  state?: CustomerState;
}

/** The customer's entitlements at `at`, ordered by feature key. */
export async function readEntitlements(
  loaders: Loaders,
  customerId: string,
  at: Date,
  { filters = {}, state }: ReadOptions = {},
): Promise<EvaluatedEntitlement[]> {
  const entitlements = state
    ? entitlementsAt(state, at, filters)
    : (await loaders.customerState.load(customerId)).entitlementsAt(at, filters);
  return entitlements.map((entitlement) => evaluated(loaders, customerId, at, entitlement));
}

/** One feature's entitlement at `at` (null: no active source) and its usage. */
export async function readEntitlement(loaders: Loaders, customerId: string, featureKey: string, at: Date) {
  const [found] = await readEntitlements(loaders, customerId, at, { filters: { featureKeys: [featureKey] } });
  if (!found) return { evaluated: null, used: 0 };
  await loadUsage(loaders, [found]);
  return { evaluated: found, used: found.usedIfLoaded ?? (await found.used()) };
}

/** What a subscriber can observe of these entitlements (hasAccess needs their usage). */
export async function observed(entitlements: readonly EvaluatedEntitlement[]): Promise<EntitlementSnapshot> {
  const used = new Map(await Promise.all(entitlements.map(async (entry) => [entry.entitlement, await entry.used()] as const)));
  return snapshotOf(
    entitlements.map((entry) => entry.entitlement),
    (entitlement) => used.get(entitlement) ?? 0,
  );
}

/** What a subscriber can observe of the customer's entitlements at `at`. */
export async function observedAt(loaders: Loaders, customerId: string, at: Date, options: ReadOptions = {}): Promise<EntitlementSnapshot> {
  return observed(await readEntitlements(loaders, customerId, at, options));
}

/**
 * The entitlements an event carries, evaluated once per event on this instance however many
 * subscribers hear it (every subscriber of an event receives the same event object), with
 * loaders of its own: a subscriber's request context outlives its events.
 */
const evaluatedEvents = new WeakMap<EntitlementChange, Promise<EvaluatedEntitlement[]>>();
export function entitlementsAfterChange(
  infrastructure: Pick<Infrastructure, "prisma" | "cache">,
  change: EntitlementChange,
): Promise<EvaluatedEntitlement[]> {
  let found = evaluatedEvents.get(change);
  if (!found) {
    const loaders = createLoaders(infrastructure.prisma, change.projectId, infrastructure.cache);
    found = readEntitlements(loaders, change.customerId, new Date());
    evaluatedEvents.set(change, found);
  }
  return found;
}
