// Entitlement change events, published after the write that caused them is committed.
// In-process for now: every subscriber of this instance hears every publish.
import { createPubSub, type PubSubEventTarget } from "graphql-yoga";

export type ChangeCause = "CATALOG_CHANGED" | "SUBSCRIPTION_CHANGED" | "GRANT_CHANGED" | "USAGE_CHANGED" | "SCHEDULED_TRANSITION";

/** JSON-serialisable, so that it can cross instances later. */
export interface EntitlementChange {
  projectId: string;
  customerId: string;
  cause: ChangeCause;
  changedFeatureKeys: string[];
  occurredAt: string;
}

export const ENTITLEMENTS_CHANGED = "entitlements-changed";

type Topics = { [ENTITLEMENTS_CHANGED]: [projectId: string, change: EntitlementChange] };

/** `eventTarget`: where events travel (default: this process). */
export function createEventBus(eventTarget?: PubSubEventTarget<Topics>) {
  return createPubSub<Topics>(eventTarget ? { eventTarget } : {});
}

export type EventBus = ReturnType<typeof createEventBus>;
