// What a write changed, logged (docs/rules.md §6): each affected customer's observable
// entitlements are compared before and after, and each difference is one event in the event
// log, written in the write's own transaction, so that a committed change always has its event.
// Usage writes, the most frequent by far, evaluate only what a record can flip or reach.
import { LRUCache } from "lru-cache";
import { createEntitlementCache } from "../cache/entitlement-cache.ts";
import { changedFeatureKeys, usageCanFlipAccess, usageFlippedAccess } from "../domain/changes.ts";
import type { Entitlement } from "../domain/entitlements.ts";
import { thresholdPeriodStart, thresholdsReached, usageCanReachThreshold } from "../domain/thresholds.ts";
import { appendEvents } from "../db/event-log.ts";
import type { RawSql } from "../db/raw-transaction.ts";
import { rememberReachedThresholds } from "../db/reached-thresholds.ts";
import type { ChangeCause, NewEvent } from "../events/logged-event.ts";
import type { EventFeed } from "../events/feed.ts";
import { createLoaders, type Loaders } from "../loaders/index.ts";
import { sumUsage, usageKeyOf } from "../loaders/usage.ts";
import type { Prisma, PrismaClient, UsageRecord } from "../generated/prisma/client.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { loggedEntitlements, observeCustomer, readEntitlements, type Observation } from "./entitlements.ts";
import { requireLoggedEvent } from "./event-log.ts";
import { creditsAround, NO_MOVEMENTS, type CreditMovements } from "./credits.ts";
import { auditWrite, type Audited } from "./audit.ts";
import { invalidatingWrite, type ProjectScope } from "./scope.ts";

export type Transaction = Prisma.TransactionClient;

/**
 * The events a subscriber hears: one customer's (a customer token's own, always) or, with no
 * customer, every customer's of the project; with `featureKeys`, those about one of them;
 * with `after`, the logged ones after that id first.
 */
export async function watchEvents(
  scope: ProjectScope,
  feed: EventFeed,
  input: {
    type: NewEvent["type"];
    customer?: CustomerRef | null;
    featureKeys?: readonly string[] | null;
    after?: bigint | null;
  },
) {
  const customerId = input.customer ? (await resolveCustomerRef(scope, input.customer, "customer")).id : (scope.visibleCustomerId ?? null);
  if (input.after) await requireLoggedEvent(scope, input.after, "after");
  return feed.watch({
    projectId: scope.projectId,
    customerId,
    featureKeys: input.featureKeys ?? null,
    types: [input.type],
    after: input.after ?? null,
  });
}

/** Loaders reading through a transaction: what it sees, its own writes included, and no cache. */
export const loadersIn = (tx: Transaction, projectId: string): Loaders => createLoaders(tx as unknown as PrismaClient, projectId);

/** An entitlements-changed event for one customer, carrying what was observed after the change. */
export const changeEvent = (customerId: string, cause: ChangeCause, keys: string[], after: Observation, occurredAt: Date): NewEvent => ({
  customerId,
  type: "ENTITLEMENTS_CHANGED",
  featureKeys: keys,
  occurredAt: occurredAt.toISOString(),
  data: { cause, changedFeatureKeys: keys, entitlements: loggedEntitlements(after) },
});

/** The customer's events for a change from `before` to `after`: what differs, and thresholds now reached. */
export async function eventsBetween(
  tx: Transaction,
  customerId: string,
  cause: ChangeCause,
  before: Observation,
  after: Observation,
  at: Date,
): Promise<NewEvent[]> {
  const keys = changedFeatureKeys(before.snapshot, after.snapshot);
  const changed = keys.length > 0 ? [changeEvent(customerId, cause, keys, after, at)] : [];
  return [...changed, ...(await thresholdsStoodAt(tx, customerId, after, at))];
}

/** The threshold events of what a customer now stands at: a limit lowered below the usage reaches them too (once, as usage does). */
export const thresholdsStoodAt = (tx: Transaction, customerId: string, observation: Observation, at: Date) =>
  thresholdEvents(
    tx,
    observation.entitlements.map(({ entitlement, used }) => ({ customerId, entitlement, used })),
    at,
  );

/**
 * Locks these customers' entitlements for the rest of the transaction, in one order: whoever
 * observes a customer to log what changed (an edit, a job's page) does it alone, so that the
 * state an event carries is never older than an event logged before it.
 */
export async function lockCustomers(tx: Transaction, customerIds: readonly string[]): Promise<void> {
  const ids = [...new Set(customerIds)].sort();
  if (ids.length === 0) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('customer:' || id, 0)) FROM unnest(${ids}::text[]) AS id ORDER BY id`;
}

/**
 * Runs a write that concerns a few known customers in one transaction with its events: the
 * customers are locked (concurrent edits of one customer queue, so each event is exactly
 * what its write changed), observed, written, observed again, and the differences logged.
 * Then the cache forgets what the write changed, and followers of the log are told.
 */
export async function withChangeEvents<T>(
  scope: ProjectScope,
  customerIds: readonly string[],
  cause: ChangeCause,
  write: (tx: Transaction) => Promise<T>,
  audited: Audited<T>,
): Promise<T> {
  const ids = [...new Set(customerIds)].sort();
  let logged = 0;
  const result = await invalidatingWrite(scope, { customerIds: ids }, () =>
    scope.prisma.$transaction(async (tx) => {
      await lockCustomers(tx, ids);
      // Before, and after at the instant the write is done: a write may take effect "now" (a
      // cancellation). Both looks share the catalog, which a customer's write leaves as it is;
      // the customers' rows and usage are read afresh for the second.
      const looks = createEntitlementCache({ maxCustomers: ids.length });
      const observeAll = (at: Date) => {
        const loaders = createLoaders(tx as unknown as PrismaClient, scope.projectId, looks);
        return Promise.all(ids.map((customerId) => observeCustomer(loaders, customerId, at)));
      };
      const before = await observeAll(new Date());
      const result = await write(tx);
      await auditWrite(tx, audited, result);
      looks.invalidate({ projectId: scope.projectId, customerIds: ids, usageOf: ids });
      const at = new Date();
      const after = await observeAll(at);
      const events = (
        await Promise.all(
          ids.map((customerId, index) =>
            eventsBetween(tx, customerId, cause, before[index] as Observation, after[index] as Observation, at),
          ),
        )
      ).flat();
      logged = (await appendEvents(tx, scope.projectId, events)).length;
      return result;
    }),
  );
  if (logged > 0) scope.events.logged(scope.projectId);
  return result;
}

/** A (customer, entitlement) whose usage may have reached a threshold, with that usage. */
interface ThresholdCandidate {
  customerId: string;
  entitlement: Entitlement;
  used: number;
}

/**
 * Thresholds this instance has seen remembered already: no statement is spent on them again.
 * Only what the database answered as remembered goes in, so a rolled-back write leaves
 * nothing here that is not true.
 */
const knownReached = new LRUCache<string, true>({ max: 100_000 });
const reachedKey = (customerId: string, featureId: string, threshold: number, periodStart: Date) =>
  `${customerId}|${featureId}|${threshold}|${periodStart.getTime()}`;

/** The thresholds these usages stand at that this instance does not know to be remembered for their period. */
const notYetKnownReached = (candidates: readonly ThresholdCandidate[]) =>
  candidates.flatMap((candidate) =>
    thresholdsReached(candidate.entitlement, candidate.used).flatMap((threshold) => {
      const periodStart = thresholdPeriodStart(candidate.entitlement);
      const key = reachedKey(candidate.customerId, candidate.entitlement.feature.id, threshold, periodStart);
      return knownReached.has(key) ? [] : [{ ...candidate, threshold, periodStart, key }];
    }),
  );

/** The usage-threshold events for thresholds these usages stand at, each once per period (one statement, or none). */
async function thresholdEvents(tx: Transaction, candidates: readonly ThresholdCandidate[], at: Date): Promise<NewEvent[]> {
  const reached = notYetKnownReached(candidates);
  if (reached.length === 0) return [];
  const fresh = new Set(
    (
      await rememberReachedThresholds(
        tx,
        reached.map(({ customerId, entitlement, threshold, periodStart }) => ({
          customerId,
          featureId: entitlement.feature.id,
          threshold,
          periodStart,
        })),
      )
    ).map(({ customerId, featureId, threshold, periodStart }) => reachedKey(customerId, featureId, threshold, periodStart)),
  );
  for (const { key } of reached) if (!fresh.has(key)) knownReached.set(key, true);
  return reached
    .filter(({ key }) => fresh.has(key))
    .map(({ customerId, entitlement, used, threshold }) => ({
      customerId,
      type: "USAGE_THRESHOLD_REACHED",
      featureKeys: [entitlement.feature.key],
      occurredAt: at.toISOString(),
      data: {
        featureKey: entitlement.feature.key,
        threshold,
        used,
        usageLimit: entitlement.usageLimit as number,
        periodStart: entitlement.period?.start?.toISOString() ?? null,
        periodEnd: entitlement.period?.end?.toISOString() ?? null,
      },
    }));
}

/** What a usage write inserted, as far as change tracking needs it. */
export type InsertedUsage = Pick<UsageRecord, "customerId" | "featureId" | "quantity" | "timestamp">;

/** A (customer, entitlement) new usage can change something of: its access, or a threshold. */
interface UsageWatch {
  customerId: string;
  entitlement: Entitlement;
}

/** Whether usage at `timestamp` can change what is announced of the entitlement. */
const usageMatters = (entitlement: Entitlement, timestamp: Date) =>
  usageCanFlipAccess(entitlement, timestamp) || usageCanReachThreshold(entitlement, timestamp);

/**
 * The (customer, entitlement) pairs records of these (customer, feature, instant)s can change
 * something announced of: a hard limit's access, or a threshold. Read from the request's
 * loaders (the cache): usage does not change entitlements, only what they allow.
 */
export async function usageWatches(
  loaders: Loaders,
  planned: readonly { customerId: string; featureId: string; timestamp: Date }[],
  at: Date,
): Promise<UsageWatch[]> {
  const byCustomer = new Map<string, typeof planned>();
  for (const record of planned) byCustomer.set(record.customerId, [...(byCustomer.get(record.customerId) ?? []), record]);
  return (
    await Promise.all(
      [...byCustomer].map(async ([customerId, records]) => {
        const featureIds = [...new Set(records.map((record) => record.featureId))];
        const entitlements = await readEntitlements(loaders, customerId, at, { filters: { featureIds } });
        return entitlements
          .filter(({ entitlement }) =>
            records.some(
              (record) =>
                record.featureId === entitlement.feature.id &&
                // Any record may draw on the credits access rests on now, whatever its period.
                (usageMatters(entitlement, record.timestamp) || (entitlement.credits.length > 0 && usageCanFlipAccess(entitlement, at))),
            ),
          )
          .map(({ entitlement }) => ({ customerId, entitlement }));
      }),
    )
  ).flat();
}

/**
 * What a usage write's records did to the watched (customer, entitlement) pairs they count
 * in, read in its transaction after its records are in: each pair's usage now (`usedNow`, or
 * read in one statement), the customers whose hasAccess they flipped (with those features),
 * and the pairs with their usage, for thresholds.
 */
export interface UsageOutcome {
  flipped: Map<string, string[]>;
  thresholdCandidates: ThresholdCandidate[];
}

export async function usageOutcome(
  sql: RawSql,
  watches: readonly UsageWatch[],
  inserted: readonly InsertedUsage[],
  at: Date,
  { usedNow, credits = NO_MOVEMENTS }: { usedNow?: readonly number[]; credits?: CreditMovements } = {},
): Promise<UsageOutcome> {
  // By (customer, feature) first: a batch of 1,000 records for 1,000 watched pairs would
  // otherwise compare every record with every pair, the connection held meanwhile.
  const byPair = new Map<string, InsertedUsage[]>();
  for (const record of inserted) {
    const key = `${record.customerId}:${record.featureId}`;
    const records = byPair.get(key);
    if (records) records.push(record);
    else byPair.set(key, [record]);
  }
  // A pair counts when records fall in its current period, or when the write drew on credits
  // it holds now (a late record of an earlier period can use them up).
  const counted = watches
    .map((watch) => {
      const records = (byPair.get(`${watch.customerId}:${watch.entitlement.feature.id}`) ?? []).filter((record) =>
        usageMatters(watch.entitlement, record.timestamp),
      );
      const held = creditsAround(watch.entitlement, credits, at);
      return {
        ...watch,
        added: records.reduce((sum, record) => sum + record.quantity, 0),
        inPeriod: records.length > 0,
        held,
        any: records.length > 0 || held.before !== held.after,
      };
    })
    .filter(({ any }) => any);
  const flipped = new Map<string, string[]>();
  if (counted.length === 0) return { flipped, thresholdCandidates: [] };
  const used =
    usedNow ??
    (await sumUsage(
      sql,
      counted.map(({ customerId, entitlement }) => usageKeyOf(customerId, entitlement)),
    ));
  counted.forEach(({ customerId, entitlement, added, held }, index) => {
    if (
      usageCanFlipAccess(entitlement, at) &&
      usageFlippedAccess(entitlement, used[index] ?? 0, added, held.after, held.before - held.after)
    ) {
      flipped.set(customerId, [...(flipped.get(customerId) ?? []), entitlement.feature.key]);
    }
  });
  return {
    flipped,
    thresholdCandidates: counted.flatMap(({ customerId, entitlement, inPeriod }, index) =>
      inPeriod ? [{ customerId, entitlement, used: used[index] ?? 0 }] : [],
    ),
  };
}

/**
 * Whether the outcome certainly logs nothing: no access flipped, and every threshold it stands
 * at known to be remembered already. (An unknown one may still turn out remembered.)
 */
export const logsNothing = (outcome: UsageOutcome) =>
  outcome.flipped.size === 0 && notYetKnownReached(outcome.thresholdCandidates).length === 0;

/**
 * The events of a usage write's outcome, in its transaction: one USAGE_CHANGED event per
 * customer whose access it flipped, carrying all its entitlements as they now stand, and the
 * thresholds it reached.
 */
export async function usageEvents(tx: Transaction, scope: ProjectScope, outcome: UsageOutcome, at: Date): Promise<NewEvent[]> {
  const loaders = loadersIn(tx, scope.projectId); // one catalog read for every flipped customer
  const changes = await Promise.all(
    [...outcome.flipped].map(async ([customerId, keys]) =>
      changeEvent(customerId, "USAGE_CHANGED", keys.sort(), await observeCustomer(loaders, customerId, at), at),
    ),
  );
  return [...changes, ...(await thresholdEvents(tx, outcome.thresholdCandidates, at))];
}

/**
 * Watched pairs a usage write locks (in its transaction, before its insert), so that its read
 * of their usage is exact: two writers crossing a limit together cannot both see it uncrossed.
 * Beyond this many, a batch locks nothing (a lock per pair would crowd PostgreSQL's lock
 * table), and a flip or threshold two concurrent batches cross together is announced by the
 * next write that finds it (docs/rules.md §6).
 */
const MAX_LOCKED_WATCHES = 64;

/** Takes the watched pairs' usage locks, in one order (the key consumeEntitlement takes too). */
export async function lockWatchedUsage(
  tx: RawSql,
  watches: readonly UsageWatch[],
  drawing: readonly { customerId: string; featureId: string }[] = [],
): Promise<void> {
  // Pairs that draw on credits are always locked: without it two writers could draw one credit twice.
  const watched =
    watches.length > MAX_LOCKED_WATCHES
      ? []
      : watches.map(({ customerId, entitlement }) => ({ customerId, featureId: entitlement.feature.id }));
  const keys = [...new Set([...watched, ...drawing].map(({ customerId, featureId }) => usageLockKey(customerId, featureId)))].sort();
  if (keys.length === 0) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(${keys}::text[]) AS key ORDER BY key`;
}

/** The lock one (customer, feature)'s usage writers take when what they write is watched. */
export const usageLockKey = (customerId: string, featureId: string) => `${customerId}:${featureId}`;
