// Runs the durable jobs that log events after a response (src/services/event-jobs.ts): a
// catalog fan-out, a window of scheduled transitions. Every instance runs one. A job is
// leased by one instance at a time (a claim with FOR UPDATE SKIP LOCKED, a lease renewed at
// every page); each page's events and the job's cursor commit together only while the lease
// is still this instance's. An instance that dies leaves its lease to run out, and another
// instance goes on from the last committed page.
import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../logger.ts";
import { appendEvents } from "../db/event-log.ts";
import type { EventBus } from "../events/bus.ts";
import { nextJobPage, type EventJobInput } from "../services/event-jobs.ts";

export interface EventJobRunnerOptions {
  prisma: PrismaClient;
  events: EventBus;
  log: Logger;
  /** How long a claim holds without news from its instance (renewed at every page). */
  leaseMs: number;
  /** How often to look for jobs nobody woke this instance for (queued elsewhere, or left by a dead instance); 0: only when woken. */
  pollIntervalMs: number;
  /** Customers per page (tests make it small). */
  pageSize?: number;
}

export interface EventJobRunner {
  /** Looks for jobs now. */
  wake(): void;
  /** Resolves once no job is being run here (tests wait for it). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

interface ClaimedJob {
  id: string;
  input: EventJobInput;
  cursor: string | null;
}

/** The claim was lost (its lease ran out and another instance took the job). */
class LeaseLost extends Error {}

export function startEventJobRunner({ prisma, events, log, leaseMs, pollIntervalMs, pageSize }: EventJobRunnerOptions): EventJobRunner {
  const instance = randomUUID();
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  const claim = async (): Promise<ClaimedJob | null> => {
    const [job] = await prisma.$queryRaw<ClaimedJob[]>`
      UPDATE "EventJob" SET "leasedBy" = ${instance}, "leasedUntil" = now() + ${leaseMs} * interval '1 millisecond', "attempts" = "attempts" + 1
      WHERE "id" = (
        -- A project's jobs run one at a time, oldest first: its edits are announced in their order.
        SELECT j."id" FROM "EventJob" j
        WHERE (j."leasedUntil" IS NULL OR j."leasedUntil" < now())
          AND NOT EXISTS (
            SELECT 1 FROM "EventJob" o
            WHERE o."projectId" IS NOT DISTINCT FROM j."projectId" AND (o."createdAt", o."id") < (j."createdAt", j."id")
          )
        ORDER BY j."createdAt", j."id" LIMIT 1 FOR UPDATE SKIP LOCKED
      )
      RETURNING "id", "input", "cursor"`;
    return job ?? null;
  };

  /** One page in one transaction; the projects it logged events for, or null when the job is done. */
  const runPage = (job: ClaimedJob) =>
    prisma.$transaction(
      async (tx: Prisma.TransactionClient) => {
        const [held] = await tx.$queryRaw<{ cursor: string | null }[]>`
          UPDATE "EventJob" SET "leasedUntil" = now() + ${leaseMs} * interval '1 millisecond'
          WHERE "id" = ${job.id}::uuid AND "leasedBy" = ${instance} RETURNING "cursor"`;
        if (!held) throw new LeaseLost();
        const page = await nextJobPage(tx, job.input, held.cursor, pageSize);
        if (!page) {
          await tx.eventJob.delete({ where: { id: job.id } });
          return null;
        }
        const projects = [...page.events.keys()].sort(); // one lock order for every page
        for (const projectId of projects) await appendEvents(tx, projectId, page.events.get(projectId) ?? []);
        await tx.eventJob.update({ where: { id: job.id }, data: { cursor: page.cursor } });
        return projects.filter((projectId) => (page.events.get(projectId)?.length ?? 0) > 0);
      },
      { timeout: Math.max(leaseMs, 10_000), maxWait: 10_000 },
    );

  /** Hands a job back at once (shutting down between pages): another instance need not wait for the lease. */
  const release = (job: ClaimedJob) =>
    prisma.$executeRaw`UPDATE "EventJob" SET "leasedBy" = NULL, "leasedUntil" = NULL WHERE "id" = ${job.id}::uuid AND "leasedBy" = ${instance}`;

  const runJob = async (job: ClaimedJob) => {
    for (;;) {
      if (stopped) {
        await release(job);
        return;
      }
      const logged = await runPage(job);
      if (logged === null) return;
      for (const projectId of logged) events.logged(projectId);
    }
  };

  const runAll = async () => {
    for (let job = await claim(); job && !stopped; job = await claim()) {
      try {
        await runJob(job);
      } catch (error) {
        if (error instanceof LeaseLost) log.warn({ job: job.id }, "an event job's lease ran out; another instance goes on with it");
        else log.error({ err: error, job: job.id }, "an event job failed; it is tried again when its lease runs out");
      }
    }
  };

  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runAll()
      .catch((error: unknown) => log.warn({ err: error }, "could not look for event jobs; trying again at the next poll"))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          wake();
        }
      });
  };

  events.onJobQueued(wake);
  const timer = pollIntervalMs > 0 ? setInterval(wake, pollIntervalMs) : undefined;
  timer?.unref();
  wake();

  return {
    wake,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await running;
    },
  };
}
