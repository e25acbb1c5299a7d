// Entitlement change events, published after the write that caused them is committed.
// Subscribers of this instance hear every publish at once, in process; with a relay
// (Redis, when REDIS_URL is set) every other instance hears it too.
import { setMaxListeners } from "node:events";
import { createPubSub, filter, pipe, type PubSubEventTarget } from "graphql-yoga";
import type { Invalidation } from "../cache/entitlement-cache.ts";

export type ChangeCause = "CATALOG_CHANGED" | "SUBSCRIPTION_CHANGED" | "GRANT_CHANGED" | "USAGE_CHANGED" | "SCHEDULED_TRANSITION";

/** JSON-serialisable: it crosses instances. */
export interface EntitlementChange {
  projectId: string;
  customerId: string;
  cause: ChangeCause;
  changedFeatureKeys: string[];
  occurredAt: string;
}

// Each change goes to two topics: its project's, for subscribers of every customer, and its
// customer's, so that a subscriber of one customer is not woken by every other customer's changes.
const PROJECT_CHANGES = "project-changes";
const CUSTOMER_CHANGES = "customer-changes";
type Topics = {
  [PROJECT_CHANGES]: [projectId: string, change: EntitlementChange];
  [CUSTOMER_CHANGES]: [customerTopic: string, change: EntitlementChange];
};
const customerTopic = (projectId: string, customerId: string) => `${projectId}/${customerId}`;

/** What crosses instances. */
export type RelayedMessage = { change: EntitlementChange } | { invalidation: Invalidation };

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
  eventTarget?: PubSubEventTarget<Topics>;
  relay?: EventRelay;
}

export function createEventBus({ eventTarget = new EventTarget() as PubSubEventTarget<Topics>, relay }: EventBusOptions = {}) {
  // Thousands of subscribers on one topic (a project, or a much-watched customer) are expected, not a leak.
  if (eventTarget instanceof EventTarget) setMaxListeners(0, eventTarget);
  const local = createPubSub<Topics>({ eventTarget });
  const publishLocally = (change: EntitlementChange) => {
    local.publish(PROJECT_CHANGES, change.projectId, change);
    local.publish(CUSTOMER_CHANGES, customerTopic(change.projectId, change.customerId), change);
  };
  const invalidationListeners: ((invalidation: Invalidation) => void)[] = [];
  relay?.onReceive((message) => {
    if ("change" in message) publishLocally(message.change);
    else for (const listener of invalidationListeners) listener(message.invalidation);
  });
  return {
    /** Local subscribers first, so that they do not depend on the relay being up. */
    publish(change: EntitlementChange) {
      publishLocally(change);
      relay?.send({ change });
    },
    /** The project's changes, or one customer's only; with `featureKeys`, those that changed one of them. */
    subscribe(
      projectId: string,
      customerId: string | null = null,
      featureKeys: readonly string[] | null = null,
    ): AsyncIterable<EntitlementChange> {
      const changes =
        customerId === null
          ? local.subscribe(PROJECT_CHANGES, projectId)
          : local.subscribe(CUSTOMER_CHANGES, customerTopic(projectId, customerId));
      if (featureKeys === null) return changes;
      const keys = new Set(featureKeys);
      return pipe(
        changes,
        filter((change: EntitlementChange) => change.changedFeatureKeys.some((key) => keys.has(key))),
      );
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
