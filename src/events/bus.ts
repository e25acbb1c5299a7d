// Entitlement change events, published after the write that caused them is committed.
// Subscribers of this instance hear every publish at once, in process; with a relay
// (Redis, when REDIS_URL is set) every other instance hears it too.
import { setMaxListeners } from "node:events";
import { createPubSub, type PubSubEventTarget } from "graphql-yoga";

export type ChangeCause = "CATALOG_CHANGED" | "SUBSCRIPTION_CHANGED" | "GRANT_CHANGED" | "USAGE_CHANGED" | "SCHEDULED_TRANSITION";

/** JSON-serialisable: it crosses instances. */
export interface EntitlementChange {
  projectId: string;
  customerId: string;
  cause: ChangeCause;
  changedFeatureKeys: string[];
  occurredAt: string;
}

export const ENTITLEMENTS_CHANGED = "entitlements-changed";

type Topics = { [ENTITLEMENTS_CHANGED]: [projectId: string, change: EntitlementChange] };

/** What a write changed in cached rows (src/cache/entitlement-cache.ts). */
export interface Invalidation {
  projectId: string;
  /** Customers whose subscriptions, grants or record changed. */
  customerIds?: string[];
  /** Customers who recorded usage. */
  usageOf?: string[];
  catalog?: boolean;
  apiKeys?: boolean;
}

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
  // Every subscriber of a project listens on one topic: thousands are expected, not a leak.
  if (eventTarget instanceof EventTarget) setMaxListeners(0, eventTarget);
  const local = createPubSub<Topics>({ eventTarget });
  const invalidationListeners: ((invalidation: Invalidation) => void)[] = [];
  relay?.onReceive((message) => {
    if ("change" in message) local.publish(ENTITLEMENTS_CHANGED, message.change.projectId, message.change);
    else for (const listener of invalidationListeners) listener(message.invalidation);
  });
  return {
    /** Local subscribers first, so that they do not depend on the relay being up. */
    publish(topic: typeof ENTITLEMENTS_CHANGED, projectId: string, change: EntitlementChange) {
      local.publish(topic, projectId, change);
      relay?.send({ change });
    },
    subscribe: local.subscribe,
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
