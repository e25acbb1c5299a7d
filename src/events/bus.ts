// Entitlement change events, published after the write that caused them is committed.
// In-process for now: every subscriber of this instance hears every publish.
import { createPubSub } from "graphql-yoga";

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

export function createEventBus() {
  return createPubSub<{ [ENTITLEMENTS_CHANGED]: [projectId: string, change: EntitlementChange] }>();
}

export type EventBus = ReturnType<typeof createEventBus>;
