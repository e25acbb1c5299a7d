// The SQL twins of domain rules: the same rule as a Prisma filter, for queries that must
// select in the database what the pure function decides in memory. Each is held against
// its pure function by test/api/rules-in-sql.test.ts.
import type { Prisma } from "../generated/prisma/client.ts";
import type { SubscriptionStatus } from "../domain/subscription-status.ts";

/** Twin of subscriptionStatus (src/domain/subscription-status.ts): subscriptions in one of `statuses` at t. */
export function subscriptionStatusWhere(statuses: readonly SubscriptionStatus[], t: Date): Prisma.CustomerSubscriptionWhereInput {
  const started = { startsAt: { lte: t } };
  const notCanceled = { OR: [{ canceledAt: null }, { canceledAt: { gt: t } }] };
  const notEnded = { OR: [{ endsAt: null }, { endsAt: { gt: t } }] };
  const notTrialing = { OR: [{ trialEndsAt: null }, { trialEndsAt: { lte: t } }] };
  const running = [started, notCanceled, notEnded];
  const conditions: Record<SubscriptionStatus, Prisma.CustomerSubscriptionWhereInput> = {
    SCHEDULED: { startsAt: { gt: t } },
    CANCELED: { AND: [started, { canceledAt: { lte: t } }] },
    EXPIRED: { AND: [started, notCanceled, { endsAt: { lte: t } }] },
    TRIALING: { AND: [...running, { trialEndsAt: { gt: t } }] },
    NON_RENEWING: { AND: [...running, notTrialing, { OR: [{ canceledAt: { not: null } }, { endsAt: { not: null } }] }] },
    ACTIVE: { AND: [...running, notTrialing, { canceledAt: null }, { endsAt: null }] },
  };
  return { OR: statuses.map((status) => conditions[status]) };
}

/** Twin of grantInForce (src/domain/entitlements.ts): effective, not expired, not voided at t (half-open). */
export const grantInForceWhere = (t: Date): Prisma.GrantWhereInput => ({
  effectiveAt: { lte: t },
  AND: [{ OR: [{ expiresAt: null }, { expiresAt: { gt: t } }] }, { OR: [{ voidedAt: null }, { voidedAt: { gt: t } }] }],
});

/**
 * Twin of notEndedBy (src/domain/time.ts) for a phase or an add-on: in force at t or still to
 * come. Its `startsAt`/`endsAt` are the window's.
 */
export const notEndedByWhere = (t: Date) => ({ OR: [{ endsAt: null }, { endsAt: { gt: t } }] });

/** A plan entitlement or override in force: removing one stamps removedAt, and its history stays. */
export const notRemovedWhere = { removedAt: null } as const;

/**
 * Subscriptions on the plan at t or later: a phase on it not ended by t (and, with `addons`,
 * an add-on of it not ended by t).
 */
export const onPlanWhere = (planId: string, t: Date, { addons = false } = {}): Prisma.CustomerSubscriptionWhereInput => ({
  OR: [
    { phases: { some: { planId, ...notEndedByWhere(t) } } },
    ...(addons ? [{ addons: { some: { addonId: planId, ...notEndedByWhere(t) } } }] : []),
  ],
});
