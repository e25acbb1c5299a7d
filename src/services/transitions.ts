// Scheduled transitions (docs/rules.md §6): a trial ending, a cancellation or grant expiry taking
// effect, a scheduled subscription, phase or add-on starting. No write happens at that
// instant: a scan (src/workers/transition-scan.ts) claims a window of time and queues it as a
// durable job, and the job finds the source boundaries inside it with indexed range queries
// and logs a SCHEDULED_TRANSITION for each customer whose entitlements differ across it.
import { changedFeatureKeys } from "../domain/changes.ts";
import { boundariesToAnnounce, featuresFedBy, type ScanWindow } from "../domain/transitions.ts";
import type { NewEvent } from "../events/logged-event.ts";
import { changeEvent, loadersIn, lockCustomers, thresholdsStoodAt, type Transaction } from "./changes.ts";
import { observeCustomer } from "./entitlements.ts";

/** The customers a scan found boundaries for, with the sources behind them. */
export interface Transitioned {
  /** The window it was found in. */
  window: ScanWindow;
  projectId: string;
  customerId: string;
  subscriptionIds: Set<string>;
  grantIds: Set<string>;
  /** The latest instant found: when the change took effect. */
  at: Date;
}

const inWindow = ({ from, to }: ScanWindow) => ({ gt: from, lte: to });

/** The customers with a boundary to announce in the window, from every kind of source. */
export async function findTransitions(client: Transaction, span: { from: string; to: string }): Promise<Transitioned[]> {
  const window = { from: new Date(span.from), to: new Date(span.to) };
  const range = inWindow(window);
  const subscriptionOf = { select: { projectId: true, customerId: true } } as const;
  const [subscriptions, phases, addons, grants] = await Promise.all([
    client.customerSubscription.findMany({
      where: { OR: [{ startsAt: range }, { endsAt: range }, { trialEndsAt: range }, { canceledAt: range }] },
      select: {
        id: true,
        projectId: true,
        customerId: true,
        startsAt: true,
        endsAt: true,
        trialEndsAt: true,
        canceledAt: true,
        updatedAt: true,
      },
    }),
    client.subscriptionPhase.findMany({
      where: { OR: [{ startsAt: range }, { endsAt: range }] },
      select: { subscriptionId: true, startsAt: true, endsAt: true, updatedAt: true, subscription: subscriptionOf },
    }),
    client.subscriptionAddon.findMany({
      where: { OR: [{ startsAt: range }, { endsAt: range }] },
      select: { subscriptionId: true, startsAt: true, endsAt: true, updatedAt: true, subscription: subscriptionOf },
    }),
    client.grant.findMany({
      where: { OR: [{ effectiveAt: range }, { expiresAt: range }, { voidedAt: range }] },
      select: { id: true, projectId: true, customerId: true, effectiveAt: true, expiresAt: true, voidedAt: true, updatedAt: true },
    }),
  ]);

  const found = new Map<string, Transitioned>();
  const note = (projectId: string, customerId: string, instants: Date[], source: { subscriptionId?: string; grantId?: string }) => {
    if (instants.length === 0) return;
    const latest = new Date(Math.max(...instants.map((instant) => instant.getTime())));
    const entry = found.get(customerId) ?? { window, projectId, customerId, subscriptionIds: new Set(), grantIds: new Set(), at: latest };
    if (source.subscriptionId) entry.subscriptionIds.add(source.subscriptionId);
    if (source.grantId) entry.grantIds.add(source.grantId);
    if (latest.getTime() > entry.at.getTime()) entry.at = latest;
    found.set(customerId, entry);
  };
  for (const row of subscriptions) {
    const instants = boundariesToAnnounce(window, [row.startsAt, row.endsAt, row.trialEndsAt, row.canceledAt], row.updatedAt);
    note(row.projectId, row.customerId, instants, { subscriptionId: row.id });
  }
  for (const row of [...phases, ...addons]) {
    const instants = boundariesToAnnounce(window, [row.startsAt, row.endsAt], row.updatedAt);
    note(row.subscription.projectId, row.subscription.customerId, instants, { subscriptionId: row.subscriptionId });
  }
  for (const row of grants) {
    const instants = boundariesToAnnounce(window, [row.effectiveAt, row.expiresAt, row.voidedAt], row.updatedAt);
    note(row.projectId, row.customerId, instants, { grantId: row.id });
  }
  // In customer order: a job pages through them by customer id.
  return [...found.values()].sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}

/**
 * Compares the customers after `cursor` (at most `pageSize` of them) across their window and
 * makes the events the found sources explain; null when none is left.
 */
export async function announceTransitions(
  tx: Transaction,
  transitioned: readonly Transitioned[],
  cursor: string | null,
  pageSize: number,
): Promise<{ events: Map<string, NewEvent[]>; cursor: string } | null> {
  const page = transitioned.filter((entry) => cursor === null || entry.customerId > cursor).slice(0, pageSize);
  if (page.length === 0) return null;
  await lockCustomers(
    tx,
    page.map((entry) => entry.customerId),
  );
  const events = new Map<string, NewEvent[]>();
  const byProject = new Map<string, Transitioned[]>();
  for (const entry of page) byProject.set(entry.projectId, [...(byProject.get(entry.projectId) ?? []), entry]);
  for (const [projectId, customers] of byProject) {
    const loaders = loadersIn(tx, projectId);
    const found = await Promise.all(
      customers.map(async (entry) => {
        const { state } = await loaders.customerState.load(entry.customerId);
        const [before, after] = await Promise.all([
          observeCustomer(loaders, entry.customerId, entry.window.from, { state }),
          observeCustomer(loaders, entry.customerId, entry.window.to, { state }),
        ]);
        const explained = featuresFedBy(
          [...before.entitlements, ...after.entitlements].map(({ entitlement }) => entitlement),
          entry,
        );
        const keys = changedFeatureKeys(before.snapshot, after.snapshot).filter((key) => explained.has(key));
        const thresholds = await thresholdsStoodAt(tx, entry.customerId, after, entry.at);
        return [...(keys.length > 0 ? [changeEvent(entry.customerId, "SCHEDULED_TRANSITION", keys, after, entry.at)] : []), ...thresholds];
      }),
    );
    events.set(projectId, found.flat());
  }
  return { events, cursor: page.at(-1)?.customerId as string };
}
