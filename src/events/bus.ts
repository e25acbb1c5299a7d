// How logged events reach subscribers (docs/rules.md §6). The event log in the database is
// the record; this bus only carries what this instance's log follower (src/events/feed.ts)
// read from it to the subscribers here, and tells other instances (through the relay: Redis,
// when REDIS_URL is set) that a project's log has grown or that a job was queued, so that
// they look at once instead of at their next poll. Losing such a note delays, never loses.
import { setMaxListeners } from "node:events";
import type { Invalidation } from "../cache/entitlement-cache.ts";
import type { LoggedEvent } from "./logged-event.ts";

/** What crosses instances: a project's log grew, a durable job was queued, or a cache entry is stale. */
export type RelayedMessage = { logged: { projectId: string } } | { jobQueued: true } | { invalidation: Invalidation };

/** Carries this instance's messages to the others, and theirs here. */
export interface EventRelay {
  /** Sends to every other instance; never throws (a lost send is logged). */
  send(message: RelayedMessage): void;
  /** Calls `deliver` with every message another instance sent. */
  onReceive(deliver: (message: RelayedMessage) => void): void;
  /** Calls `listener` whenever messages from other instances start or stop arriving. */
  onConnectedChange(listener: (connected: boolean) => void): void;
  close(): Promise<void>;
}

export interface EventBusOptions {
  /** Where in-process events travel (default: a fresh EventTarget). */
  eventTarget?: EventTarget;
  relay?: EventRelay;
}

// Each event goes to two topics: its project's, for subscribers of every customer, and its
// customer's, so that a subscriber of one customer is not woken by every other customer's events.
const projectTopic = (projectId: string) => `project:${projectId}`;
const customerTopic = (projectId: string, customerId: string) => `customer:${projectId}/${customerId}`;

export function createEventBus({ eventTarget = new EventTarget(), relay }: EventBusOptions = {}) {
  // Thousands of subscribers on one topic (a project, or a much-watched customer) are expected, not a leak.
  if (eventTarget instanceof EventTarget) setMaxListeners(0, eventTarget);
  const logListeners: ((projectId: string) => void)[] = [];
  const jobListeners: (() => void)[] = [];
  const invalidationListeners: ((invalidation: Invalidation) => void)[] = [];
  relay?.onReceive((message) => {
    if ("logged" in message) for (const listener of logListeners) listener(message.logged.projectId);
    else if ("jobQueued" in message) for (const listener of jobListeners) listener();
    else for (const listener of invalidationListeners) listener(message.invalidation);
  });
  return {
    /** Hands a logged event to this instance's subscribers of its project and of its customer. */
    deliverLocally(event: LoggedEvent) {
      for (const topic of [projectTopic(event.projectId), customerTopic(event.projectId, event.customerId)]) {
        eventTarget.dispatchEvent(new CustomEvent(topic, { detail: event }));
      }
    },
    /**
     * Calls `listener` with every event delivered here for the project (or, with `customerId`,
     * that customer) from now on, until the returned function is called.
     */
    listen(projectId: string, customerId: string | null, listener: (event: LoggedEvent) => void): () => void {
      const topic = customerId === null ? projectTopic(projectId) : customerTopic(projectId, customerId);
      const handler = (event: Event) => listener((event as CustomEvent<LoggedEvent>).detail);
      eventTarget.addEventListener(topic, handler);
      return () => eventTarget.removeEventListener(topic, handler);
    },
    /** After a commit that logged events: this instance's follower and every other instance look at the project's log. */
    logged(projectId: string) {
      for (const listener of logListeners) listener(projectId);
      relay?.send({ logged: { projectId } });
    },
    onLogged(listener: (projectId: string) => void) {
      logListeners.push(listener);
    },
    /** After a commit that queued a durable job: a job runner here (and elsewhere) takes it now. */
    jobQueued() {
      for (const listener of jobListeners) listener();
      relay?.send({ jobQueued: true });
    },
    onJobQueued(listener: () => void) {
      jobListeners.push(listener);
    },
    /** Tells the other instances what a write changed (this one has already dropped it). */
    broadcastInvalidation(invalidation: Invalidation) {
      relay?.send({ invalidation });
    },
    /** Hears other instances' invalidations, and whether they can be heard at all. */
    onRemoteInvalidation(listener: (invalidation: Invalidation) => void, connectedChange: (connected: boolean) => void) {
      invalidationListeners.push(listener);
      relay?.onConnectedChange(connectedChange);
    },
    close: () => relay?.close() ?? Promise.resolve(),
  };
}

export type EventBus = ReturnType<typeof createEventBus>;
