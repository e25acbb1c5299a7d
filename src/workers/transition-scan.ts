// Scheduled transitions (docs/rules.md §6): a trial ending, a cancellation or grant expiry taking
// effect, a scheduled subscription, phase or add-on starting. No write happens at that
// instant, so a scanner looks for it: every `intervalMs`, one instance claims the next
// window of time (a compare-and-set on a cursor row, so each window is scanned once across
// instances), finds the source boundaries inside it with indexed range queries, and
// publishes a SCHEDULED_TRANSITION for each customer whose entitlements differ across it.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import { changedFeatureKeys } from "../domain/changes.ts";
import { boundariesToAnnounce, featuresFedBy, nextScanWindow, type ScanWindow } from "../domain/transitions.ts";
import type { EventBus } from "../events/bus.ts";
import { createLoaders } from "../loaders/index.ts";
import { publishChange } from "../services/changes.ts";
import { observed, readEntitlements } from "../services/entitlements.ts";

export interface TransitionScannerOptions {
  prisma: PrismaClient;
  events: EventBus;
  log: Logger;
  /** After a pause (every instance stopped), how far back the first scan reaches. */
  maxCatchUpMs?: number;
  /** The cursor row; instances sharing a database and an event bus share it. */
  cursorName?: string;
}

/** The customers a scan found boundaries for, with the sources behind them. */
interface Transitioned {
  projectId: string;
  customerId: string;
  subscriptionIds: Set<string>;
  grantIds: Set<string>;
  /** The latest instant found: when the change took effect. */
  at: Date;
}

const inWindow = ({ from, to }: ScanWindow) => ({ gt: from, lte: to });

/** The customers with a boundary to announce in the window, from every kind of source. */
async function findTransitions(prisma: PrismaClient, window: ScanWindow): Promise<Transitioned[]> {
  const range = inWindow(window);
  const subscriptionOf = { select: { projectId: true, customerId: true } } as const;
  const [subscriptions, phases, addons, grants] = await Promise.all([
    prisma.customerSubscription.findMany({
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
    prisma.subscriptionPhase.findMany({
      where: { OR: [{ startsAt: range }, { endsAt: range }] },
      select: { subscriptionId: true, startsAt: true, endsAt: true, updatedAt: true, subscription: subscriptionOf },
    }),
    prisma.subscriptionAddon.findMany({
      where: { OR: [{ startsAt: range }, { endsAt: range }] },
      select: { subscriptionId: true, startsAt: true, endsAt: true, updatedAt: true, subscription: subscriptionOf },
    }),
    prisma.grant.findMany({
      where: { OR: [{ effectiveAt: range }, { expiresAt: range }, { voidedAt: range }] },
      select: { id: true, projectId: true, customerId: true, effectiveAt: true, expiresAt: true, voidedAt: true, updatedAt: true },
    }),
  ]);

  const found = new Map<string, Transitioned>();
  const note = (projectId: string, customerId: string, instants: Date[], source: { subscriptionId?: string; grantId?: string }) => {
    if (instants.length === 0) return;
    const latest = new Date(Math.max(...instants.map((instant) => instant.getTime())));
    const entry = found.get(customerId) ?? { projectId, customerId, subscriptionIds: new Set(), grantIds: new Set(), at: latest };
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
  return [...found.values()];
}

/** How many customers one step of a scan evaluates at once. */
const BATCH = 200;

/** Compares each customer across the window and publishes what the found sources changed. */
async function announce(prisma: PrismaClient, events: EventBus, window: ScanWindow, transitioned: Transitioned[]): Promise<number> {
  let told = 0;
  const byProject = new Map<string, Transitioned[]>();
  for (const entry of transitioned) byProject.set(entry.projectId, [...(byProject.get(entry.projectId) ?? []), entry]);
  for (const [projectId, customers] of byProject) {
    for (let index = 0; index < customers.length; index += BATCH) {
      const loaders = createLoaders(prisma, projectId);
      const results = await Promise.all(
        customers.slice(index, index + BATCH).map(async (entry) => {
          const { state } = await loaders.customerState.load(entry.customerId);
          const [before, after] = await Promise.all([
            readEntitlements(loaders, entry.customerId, window.from, { state }),
            readEntitlements(loaders, entry.customerId, window.to, { state }),
          ]);
          const [beforeSnapshot, afterSnapshot] = await Promise.all([observed(before), observed(after)]);
          const explained = featuresFedBy(
            [...before, ...after].map((evaluated) => evaluated.entitlement),
            entry,
          );
          const changed = changedFeatureKeys(beforeSnapshot, afterSnapshot).filter((key) => explained.has(key));
          return publishChange(events, {
            projectId,
            customerId: entry.customerId,
            cause: "SCHEDULED_TRANSITION",
            changedFeatureKeys: changed,
            occurredAt: entry.at,
          });
        }),
      );
      told += results.filter(Boolean).length;
    }
  }
  return told;
}

/** Moves the cursor from where it was to `now`; the window, or null if another instance got it. */
async function claimWindow(prisma: PrismaClient, name: string, now: Date, maxCatchUpMs: number): Promise<ScanWindow | null> {
  const cursor = await prisma.schedulerCursor.findUnique({ where: { name } });
  if (!cursor) {
    // The first scan ever starts now: nothing before it was promised to anyone.
    await prisma.schedulerCursor.createMany({ data: [{ name, processedUntil: now }], skipDuplicates: true });
    return null;
  }
  const window = nextScanWindow(cursor.processedUntil, now, maxCatchUpMs);
  if (!window) return null;
  const { count } = await prisma.schedulerCursor.updateMany({
    where: { name, processedUntil: cursor.processedUntil },
    data: { processedUntil: window.to },
  });
  return count === 1 ? window : null;
}

export interface TransitionScanner {
  /** One scan up to `now`: how many customers were told; null when there was no window to take. */
  scan(now?: Date): Promise<number | null>;
}

export function createTransitionScanner({
  prisma,
  events,
  log,
  maxCatchUpMs = 15 * 60_000,
  cursorName = "scheduled-transitions",
}: TransitionScannerOptions): TransitionScanner {
  const scan = async (now = new Date()) => {
    const window = await claimWindow(prisma, cursorName, now, maxCatchUpMs);
    if (!window) return null;
    try {
      const transitioned = await findTransitions(prisma, window);
      if (transitioned.length === 0) return 0;
      const told = await announce(prisma, events, window, transitioned);
      log.debug({ from: window.from, to: window.to, customers: transitioned.length, told }, "scheduled transitions announced");
      return told;
    } catch (error) {
      // Hand the window back, unless another scan has moved on since, so that it is scanned again.
      await prisma.schedulerCursor
        .updateMany({ where: { name: cursorName, processedUntil: window.to }, data: { processedUntil: window.from } })
        .catch(() => undefined);
      throw error;
    }
  };
  return { scan };
}

export interface TransitionScheduler {
  /** Stops scanning and waits for a scan under way. */
  stop(): Promise<void>;
}

/** Scans every `intervalMs`: an event reaches subscribers about that long after its instant at most. */
export function startTransitionScheduler(options: TransitionScannerOptions & { intervalMs: number }): TransitionScheduler {
  const { scan } = createTransitionScanner(options);
  const { intervalMs, log } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const loop = () => {
    timer = setTimeout(() => {
      running = scan()
        .catch((error: unknown) => log.warn({ err: error }, "scheduled-transition scan failed; retrying"))
        .finally(() => {
          if (!stopped) loop();
        });
    }, intervalMs);
  };
  loop();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
