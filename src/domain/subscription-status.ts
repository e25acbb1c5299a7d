// A subscription's status at an instant (docs/rules.md §2), checked in this order.
export type SubscriptionStatus = "SCHEDULED" | "TRIALING" | "ACTIVE" | "NON_RENEWING" | "CANCELED" | "EXPIRED";

export interface SubscriptionTimes {
  startsAt: Date;
  endsAt: Date | null;
  trialEndsAt: Date | null;
  canceledAt: Date | null;
}

export function subscriptionStatus(subscription: SubscriptionTimes, t: Date): SubscriptionStatus {
  const at = t.getTime();
  const { startsAt, endsAt, trialEndsAt, canceledAt } = subscription;
  if (startsAt.getTime() > at) return "SCHEDULED";
  if (canceledAt && canceledAt.getTime() <= at) return "CANCELED";
  if (endsAt && endsAt.getTime() <= at) return "EXPIRED";
  if (trialEndsAt && trialEndsAt.getTime() > at) return "TRIALING";
  if (canceledAt || endsAt) return "NON_RENEWING";
  return "ACTIVE";
}

const ENTITLING: ReadonlySet<SubscriptionStatus> = new Set(["TRIALING", "ACTIVE", "NON_RENEWING"]);

/** Only TRIALING, ACTIVE and NON_RENEWING subscriptions entitle. */
export function subscriptionEntitles(subscription: SubscriptionTimes, t: Date): boolean {
  return ENTITLING.has(subscriptionStatus(subscription, t));
}
