// Entitlement change events, published after the write that caused them is committed.
// Subscribers of this instance hear every publish at once, in process; with a relay
// (Redis, when REDIS_URL is set) every other instance hears it too.
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

/** Carries this instance's events to the others, and theirs here. */
export interface EventRelay {
  /** Sends a change to every other instance; never throws (a lost send is logged). */
  send(change: EntitlementChange): void;
  /** Calls `deliver` with every change another instance sent. */
  onReceive(deliver: (change: EntitlementChange) => void): void;
  close(): Promise<void>;
}

export interface EventBusOptions {
  /** Where in-process events travel (default: a fresh EventTarget). */
  eventTarget?: PubSubEventTarget<Topics>;
  relay?: EventRelay;
}

export function createEventBus({ eventTarget, relay }: EventBusOptions = {}) {
  const local = createPubSub<Topics>(eventTarget ? { eventTarget } : {});
  relay?.onReceive((change) => local.publish(ENTITLEMENTS_CHANGED, change.projectId, change));
  return {
    /** Local subscribers first, so that they do not depend on the relay being up. */
    publish(topic: typeof ENTITLEMENTS_CHANGED, projectId: string, change: EntitlementChange) {
      local.publish(topic, projectId, change);
      relay?.send(change);
    },
    subscribe: local.subscribe,
    close: () => relay?.close() ?? Promise.resolve(),
  };
}

export type EventBus = ReturnType<typeof createEventBus>;
