// The entitlements reader: "this customer's entitlements and usage at t", the one path by
// which queries, checks, consume, subscriptions, change tracking and the transition scan
// evaluate a customer. The rules are src/domain/entitlements.ts's; this module gives them
// the loaded rows and the usage of each entitlement's current period.
import { snapshotOf, type EntitlementSnapshot } from "../domain/changes.ts";
import { entitlementsAt, type CustomerState, type Entitlement, type EntitlementFilters } from "../domain/entitlements.ts";
import { creditRemaining, type CreditBalance } from "../domain/credits.ts";
import {
  loggedEntitlement,
  revivedCredits,
  revivedEntitlement,
  type EntitlementsChangedEvent,
  type LoggedEntitlement,
} from "../events/logged-event.ts";
import type { Loaders } from "../loaders/index.ts";
import { usageKeyOf } from "../loaders/usage.ts";

/** An aggregate as evaluated for one customer at one instant. */
export interface EvaluatedEntitlement {
  customerId: string;
  at: Date;
  entitlement: Entitlement;
  /** Usage in the entitlement's current period (0 unless METERED), loaded on first ask, once. */
  used: () => Promise<number>;
  /** The same once loaded (always for a feature that is not METERED), so that it can be read without waiting. */
  usedIfLoaded: number | undefined;
  /** The active credits with what each holds at `at`, in burn-down order; loaded on first ask, once. */
  credits: () => Promise<CreditBalance[]>;
  /** The same once loaded (always for an entitlement without credits). */
  creditsIfLoaded: CreditBalance[] | undefined;
}

/** What the credits of `entitlement` held at `at`, from what records before `at` drew from each. */
const creditBalances = (entitlement: Entitlement, at: Date, drawn: readonly number[]): CreditBalance[] =>
  entitlement.credits.map((credit, index) => ({ ...credit, remaining: creditRemaining(credit, drawn[index] ?? 0, at) }));

export const sumRemaining = (credits: readonly CreditBalance[]) => credits.reduce((sum, credit) => sum + credit.remaining, 0);

function evaluated(loaders: Loaders, customerId: string, at: Date, entitlement: Entitlement): EvaluatedEntitlement {
  const metered = entitlement.feature.type === "METERED";
  let used: Promise<number> | undefined;
  let credits: Promise<CreditBalance[]> | undefined;
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
    creditsIfLoaded: entitlement.credits.length === 0 ? [] : undefined,
    credits: () =>
      (credits ??=
        result.creditsIfLoaded !== undefined
          ? Promise.resolve(result.creditsIfLoaded)
          : loaders.creditDrawn.loadMany(entitlement.credits.map((credit) => ({ grantId: credit.grantId, at }))).then((drawn) => {
              const failed = drawn.find((value) => value instanceof Error);
              if (failed) throw failed;
              result.creditsIfLoaded = creditBalances(entitlement, at, drawn as number[]);
              return result.creditsIfLoaded;
            })),
  };
  return result;
}

/** The entitlement's usage and credits, loaded if need be. */
export async function usageOf(entry: EvaluatedEntitlement): Promise<{ used: number; credits: CreditBalance[] }> {
  const [used, credits] = await Promise.all([entry.used(), entry.credits()]);
  return { used, credits };
}

/**
 * Loads the usage of all these entitlements at once, for readers about to read each one's:
 * what the cache holds is taken as it is, the rest loaded in one batch (credits likewise). A
 * failure is left to each entitlement's own `used()`, which answers with it.
 */
export async function loadUsage(loaders: Loaders, entitlements: readonly EvaluatedEntitlement[]): Promise<void> {
  const unknown = entitlements.filter((entry) => entry.usedIfLoaded === undefined);
  const held = loaders.heldUsage(unknown.map((entry) => usageKeyOf(entry.customerId, entry.entitlement)));
  unknown.forEach((entry, index) => {
    entry.usedIfLoaded ??= held[index];
  });
  await Promise.allSettled([
    ...unknown.flatMap((entry) => (entry.usedIfLoaded === undefined ? [entry.used()] : [])),
    ...entitlements.flatMap((entry) => (entry.creditsIfLoaded === undefined ? [entry.credits()] : [])),
  ]);
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
  if (!found) return { evaluated: null, used: 0, creditsRemaining: 0 };
  await loadUsage(loaders, [found]);
  const { used, credits } = await usageOf(found);
  return { evaluated: found, used, creditsRemaining: sumRemaining(credits) };
}

/** A customer's entitlements at an instant with their usage: what subscribers compare, and what an event carries. */
export interface Observation {
  snapshot: EntitlementSnapshot;
  /** The entitlements as the engine gave them, each with its usage and credits then. */
  entitlements: ObservedEntitlement[];
}

interface ObservedEntitlement {
  entitlement: Entitlement;
  used: number;
  credits: CreditBalance[];
}

/** Observes the customer at `at`, usage included (loaded in one go). */
export async function observeCustomer(loaders: Loaders, customerId: string, at: Date, options: ReadOptions = {}): Promise<Observation> {
  const evaluated = await readEntitlements(loaders, customerId, at, options);
  await loadUsage(loaders, evaluated);
  const entitlements = await Promise.all(evaluated.map(async (entry) => ({ entitlement: entry.entitlement, ...(await usageOf(entry)) })));
  return {
    snapshot: snapshotOf(
      entitlements.map(({ entitlement, used, credits }) => ({ entitlement, used, creditsRemaining: sumRemaining(credits) })),
    ),
    entitlements,
  };
}

/** What an event logs of an observation (made only for the events logged, not for every look). */
export const loggedEntitlements = (observation: Observation): LoggedEntitlement[] =>
  observation.entitlements.map(({ entitlement, used, credits }) => loggedEntitlement(entitlement, used, credits));

/**
 * The entitlements a logged event carries, as the entitlement engine gives them (usage as it
 * was then), made once per event object: every subscriber of an event hears the same one.
 */
const eventEntitlements = new WeakMap<EntitlementsChangedEvent, EvaluatedEntitlement[]>();
export function entitlementsOfEvent(event: EntitlementsChangedEvent): EvaluatedEntitlement[] {
  let found = eventEntitlements.get(event);
  if (!found) {
    const at = new Date(event.occurredAt);
    found = event.data.entitlements.map((logged) => {
      const credits = revivedCredits(logged);
      return {
        customerId: event.customerId,
        at,
        entitlement: revivedEntitlement(logged.entitlement),
        usedIfLoaded: logged.used,
        used: () => Promise.resolve(logged.used),
        creditsIfLoaded: credits,
        credits: () => Promise.resolve(credits),
      };
    });
    eventEntitlements.set(event, found);
  }
  return found;
}
