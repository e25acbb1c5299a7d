// Scheduled transitions (docs/rules.md §6): every `intervalMs`, one instance claims the next
// window of time (a compare-and-set on a cursor row, so each window is claimed once across
// instances) and, in the same transaction, queues it as a durable job if it holds any
// boundary: the job runner (src/workers/event-jobs.ts) then logs what they changed. An instance
// dying mid-scan leaves the job to another instance, so every transition is announced.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import { nextScanWindow, type ScanWindow } from "../domain/transitions.ts";
import type { EventBus } from "../events/bus.ts";
import { queueEventJob } from "../services/event-jobs.ts";
import { findTransitions } from "../services/transitions.ts";

export interface TransitionScannerOptions {
  prisma: PrismaClient;
  events: EventBus;
  log: Logger;
  /** After a pause (every instance stopped), how far back the first scan reaches. */
  maxCatchUpMs?: number;
  /** The cursor row; instances sharing a database share it. */
  cursorName?: string;
}

/** Moves the cursor from where it was to `now` and queues the window; the window, or null if there was none to take. */
async function claimWindow(
  prisma: PrismaClient,
  name: string,
  now: Date,
  maxCatchUpMs: number,
): Promise<(ScanWindow & { queued: boolean }) | null> {
  const cursor = await prisma.schedulerCursor.findUnique({ where: { name } });
  if (!cursor) {
    // The first scan ever starts now: nothing before it was promised to anyone.
    await prisma.schedulerCursor.createMany({ data: [{ name, processedUntil: now }], skipDuplicates: true });
    return null;
  }
  const window = nextScanWindow(cursor.processedUntil, now, maxCatchUpMs);
  if (!window) return null;
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.schedulerCursor.updateMany({
      where: { name, processedUntil: cursor.processedUntil },
      data: { processedUntil: window.to },
    });
    if (count !== 1) return null; // another instance took it
    // Most windows hold no boundary: those queue nothing (the job would find what this finds).
    const span = { from: window.from.toISOString(), to: window.to.toISOString() };
    if ((await findTransitions(tx, span)).length === 0) return { ...window, queued: false };
    await queueEventJob(tx, { kind: "transitions", ...span });
    return { ...window, queued: true };
  });
}

export interface TransitionScanner {
  /** Claims the window up to `now` and queues it; the window, or null when there was none to take. */
  scan(now?: Date): Promise<ScanWindow | null>;
}

export function createTransitionScanner({
  prisma,
  events,
  maxCatchUpMs = 15 * 60_000,
  cursorName = "scheduled-transitions",
}: TransitionScannerOptions): TransitionScanner {
  return {
    async scan(now = new Date()) {
      const window = await claimWindow(prisma, cursorName, now, maxCatchUpMs);
      if (window?.queued) events.jobQueued();
      return window && { from: window.from, to: window.to };
    },
  };
}

export interface TransitionScheduler {
  /** Stops scanning and waits for a scan under way. */
  stop(): Promise<void>;
}

/** Scans every `intervalMs`: an event is logged about that long after its instant at most. */
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
