// Subscribers' view of the event log (docs/rules.md §6): what was logged after an id, in order,
// then what is logged next, with no gap and no repeat, on whichever instance they are.
//
// Each instance follows the log of the projects its subscribers watch: it reads what was
// logged after its position whenever it is told the log grew (by its own writes, or by other
// instances through the relay) and, in case such a note was lost (Redis away), every
// `pollIntervalMs`. What it reads it hands to the bus, which wakes the subscribers here.
//
// A subscriber starts from an id (its `after`, or the project's latest when it has none): it
// listens to the bus first, then reads the log after that id, then takes live events whose id
// is past the last it had. Any event after the start is either read (committed before the
// read) or delivered live (read by the follower after the subscriber listened), so none is
// missed, and ids filter out the ones seen both ways.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { eventsAfter, latestEventId, readEvents, type EventFilter } from "../db/event-log.ts";
import type { Logger } from "../logger.ts";
import { invalidOperation } from "../errors.ts";
import type { EventBus } from "./bus.ts";
import type { LoggedEvent } from "./logged-event.ts";

/** Events read from the log at once, per project. */
const PAGE = 500;

/** Live events one subscriber may have waiting, unread, before it is ended (it resumes with `after`). */
const MAX_HEARD = 10_000;

interface WatchInput extends EventFilter {
  projectId: string;
  /** Resume after this event (one the project's log holds: the caller checks); none: from now. */
  after?: bigint | null;
}

export interface EventFeed {
  /** The events the filter matches: logged after `after` (an id the log holds) first, then live ones. */
  watch(input: WatchInput): Promise<AsyncIterableIterator<LoggedEvent>>;
  /** How many projects this instance follows (for tests and metrics). */
  readonly followed: number;
}

export function createEventFeed({
  prisma,
  bus,
  log,
  pollIntervalMs = 1000,
}: {
  prisma: PrismaClient;
  bus: EventBus;
  log: Logger;
  pollIntervalMs?: number;
}): EventFeed {
  /** Each followed project's position (the last id handed to the bus) and its watchers. */
  const followed = new Map<string, { position: bigint; watchers: number }>();
  let reading: Promise<void> | null = null;
  let readAgain = false;
  let timer: NodeJS.Timeout | undefined;

  const readNew = async () => {
    const positions = new Map([...followed].map(([projectId, { position }]) => [projectId, position]));
    const events = await eventsAfter(prisma, positions, PAGE);
    for (const event of events) {
      const project = followed.get(event.projectId);
      if (!project || BigInt(event.id) <= project.position) continue;
      project.position = BigInt(event.id);
      bus.deliverLocally(event);
    }
    // A full page for some project: there is more.
    const perProject = new Map<string, number>();
    for (const event of events) perProject.set(event.projectId, (perProject.get(event.projectId) ?? 0) + 1);
    if ([...perProject.values()].some((count) => count >= PAGE)) readAgain = true;
  };
  /** Reads what is new; a call while a read is under way makes it read once more after. */
  const catchUp = () => {
    if (followed.size === 0) return;
    if (reading) {
      readAgain = true;
      return;
    }
    reading = readNew()
      .catch((error: unknown) => log.warn({ err: error }, "could not read the event log; retrying at the next poll"))
      .finally(() => {
        reading = null;
        if (readAgain) {
          readAgain = false;
          catchUp();
        }
      });
  };
  const poll = () => {
    timer = setTimeout(() => {
      catchUp();
      if (followed.size > 0) poll();
      else timer = undefined;
    }, pollIntervalMs);
    timer.unref();
  };
  bus.onLogged((projectId) => {
    if (followed.has(projectId)) catchUp();
  });

  const follow = (projectId: string, from: bigint) => {
    const project = followed.get(projectId);
    if (project) project.watchers++;
    else followed.set(projectId, { position: from, watchers: 1 });
    if (!timer) poll();
    return () => {
      const current = followed.get(projectId);
      if (current && --current.watchers === 0) followed.delete(projectId);
    };
  };

  const matches = (filter: EventFilter) => (event: LoggedEvent) =>
    (!filter.customerId || event.customerId === filter.customerId) &&
    (!filter.types || filter.types.includes(event.type)) &&
    (!filter.featureKeys || event.featureKeys.some((key) => filter.featureKeys?.includes(key)));

  async function watch({ projectId, after = null, ...filter }: WatchInput): Promise<AsyncIterableIterator<LoggedEvent>> {
    const latest = await latestEventId(prisma, projectId);
    let last = after ?? latest;
    const wanted = matches(filter);
    // Listening first: what is logged from here on is either read from the log below or heard here.
    const heard: LoggedEvent[] = [];
    let fellBehind = false;
    const waiting: { wake: (() => void) | null } = { wake: null };
    const stopListening = bus.listen(projectId, filter.customerId ?? null, (event) => {
      if (!wanted(event)) return;
      // A subscriber that does not read keeps no unbounded backlog here: it is ended, to resume from the log.
      if (heard.length >= MAX_HEARD) fellBehind = true;
      else heard.push(event);
      waiting.wake?.();
    });
    // A project not followed yet is followed from the latest id: what came before is this subscriber's to read from the log.
    const unfollow = follow(projectId, latest);
    let replaying = true;
    let read: LoggedEvent[] = [];
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      stopListening();
      unfollow();
      waiting.wake?.();
    };
    const nextEvent = async (): Promise<LoggedEvent | null> => {
      while (!ended) {
        const fromLog = read.shift();
        if (fromLog) return fromLog;
        if (replaying) {
          read = await readEvents(prisma, projectId, last, filter, PAGE);
          if (read.length < PAGE) replaying = false;
          continue;
        }
        const live = heard.shift();
        if (live) {
          if (BigInt(live.id) > last) return live;
          continue;
        }
        if (fellBehind) {
          throw invalidOperation(
            `This subscriber fell more than ${MAX_HEARD} events behind; subscribe again with after: "${last}" to read on from the log`,
          );
        }
        await new Promise<void>((resolve) => {
          waiting.wake = resolve;
        });
        waiting.wake = null;
      }
      return null;
    };
    const iterator: AsyncIterableIterator<LoggedEvent> = {
      async next() {
        try {
          const event = await nextEvent();
          if (!event) return { done: true, value: undefined };
          last = BigInt(event.id);
          return { done: false, value: event };
        } catch (error) {
          end();
          throw error;
        }
      },
      // Ends at once, even while waiting for the next event (a subscriber gone is not kept).
      async return() {
        end();
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        end();
        throw error;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  return {
    watch,
    get followed() {
      return followed.size;
    },
  };
}
