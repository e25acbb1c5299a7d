// Everything the entitlement engine needs about customers, loaded for many customers at
// once: their subscriptions (phases, add-ons, overrides), grants, the plans and plan
// entitlements they refer to, and the features involved. A fixed number of statements
// whatever the number of customers.
import DataLoader from "dataloader";
import { Prisma, type CustomerSubscription, type Feature, type PrismaClient } from "../generated/prisma/client.ts";
import type { CustomerState, Entitlement, FeatureInfo } from "../domain/entitlements.ts";
import type { EntitlementValue, EntitlementValueInput, FeatureLevel } from "../domain/entitlement-value.ts";

export interface LoadedCustomerState {
  state: CustomerState;
  /** The stored rows behind the state, for the GraphQL types that expose them. */
  featureRows: ReadonlyMap<string, Feature>;
  subscriptionRows: ReadonlyMap<string, CustomerSubscription>;
}

/** The value fields of a stored plan entitlement or grant. */
export const valueOf = (row: EntitlementValue): EntitlementValue => ({
  isEnabled: row.isEnabled,
  usageLimit: row.usageLimit,
  isUnlimited: row.isUnlimited,
  resetPeriod: row.resetPeriod,
  isSoftLimit: row.isSoftLimit,
  staticValue: row.staticValue,
});

/** An override keeps only the fields it sets; the rest are inherited (null in storage). */
const overrideValueOf = (row: { [K in keyof EntitlementValue]: EntitlementValue[K] | null }): EntitlementValueInput =>
  Object.fromEntries(Object.entries(valueOf(row as EntitlementValue)).filter(([, value]) => value !== null));

export const featureInfo = (row: Feature): FeatureInfo => ({
  id: row.id,
  key: row.key,
  type: row.type,
  levels: (row.levels as unknown as FeatureLevel[] | null) ?? [],
});

export function createCustomerStateLoader(prisma: PrismaClient, projectId: string | null) {
  return new DataLoader<string, LoadedCustomerState>(async (customerIds) => {
    const ids = [...customerIds];
    const [subscriptions, grants] = projectId
      ? await Promise.all([
          prisma.customerSubscription.findMany({
            where: { projectId, customerId: { in: ids } },
            include: { phases: true, addons: true, overrides: { where: { removedAt: null } } },
            orderBy: { id: "asc" },
          }),
          prisma.grant.findMany({ where: { projectId, customerId: { in: ids } }, orderBy: { id: "asc" } }),
        ])
      : [[], []];
    const planIds = [...new Set(subscriptions.flatMap((s) => [...s.phases.map((p) => p.planId), ...s.addons.map((a) => a.addonId)]))];
    const [planEntitlements, plans] = await Promise.all([
      planIds.length > 0 ? prisma.planEntitlement.findMany({ where: { planId: { in: planIds }, removedAt: null } }) : [],
      planIds.length > 0 ? prisma.plan.findMany({ where: { id: { in: planIds } } }) : [],
    ]);
    const featureIds = [
      ...new Set([
        ...planEntitlements.map((row) => row.featureId),
        ...subscriptions.flatMap((s) => s.overrides.map((o) => o.featureId)),
        ...grants.map((g) => g.featureId),
      ]),
    ];
    const features = featureIds.length > 0 ? await prisma.feature.findMany({ where: { id: { in: featureIds } } }) : [];
    const featureRows = new Map(features.map((row) => [row.id, row]));
    const shared = {
      planEntitlements: planEntitlements.map((row) => ({ planId: row.planId, featureId: row.featureId, value: valueOf(row) })),
      plans: new Map(plans.map((plan) => [plan.id, { id: plan.id, name: plan.name }])),
      features: new Map(features.map((row) => [row.id, featureInfo(row)])),
    };
    return ids.map((customerId) => {
      const own = subscriptions.filter((s) => s.customerId === customerId);
      return {
        featureRows,
        subscriptionRows: new Map(own.map((s) => [s.id, s])),
        state: {
          ...shared,
          subscriptions: own.map((s) => ({
            ...s,
            overrides: s.overrides.map((o) => ({ id: o.id, featureId: o.featureId, value: overrideValueOf(o) })),
          })),
          grants: grants.filter((g) => g.customerId === customerId).map((g) => ({ ...g, value: valueOf(g) })),
        },
      };
    });
  });
}

export interface UsageKey {
  customerId: string;
  featureId: string;
  start: Date | null;
  end: Date | null;
}

/** The usage that counts against an entitlement: its customer, feature and current period. */
export const usageKeyOf = (customerId: string, entitlement: Entitlement): UsageKey => ({
  customerId,
  featureId: entitlement.feature.id,
  start: entitlement.period?.start ?? null,
  end: entitlement.period?.end ?? null,
});

/** Sums of usage per (customer, feature, period), all in one statement. */
export function createUsageLoader(prisma: PrismaClient) {
  return new DataLoader<UsageKey, number, string>(
    async (keys) => {
      const rows = keys.map(
        (key, index) =>
          Prisma.sql`(${index}::int, ${key.customerId}::uuid, ${key.featureId}::uuid, ${key.start}::timestamptz, ${key.end}::timestamptz)`,
      );
      const sums = await prisma.$queryRaw<{ index: number; used: number }[]>`
        SELECT k.index, COALESCE(SUM(u."quantity"), 0)::float8 AS used
        FROM (VALUES ${Prisma.join(rows)}) AS k(index, customer_id, feature_id, start_at, end_at)
        LEFT JOIN "UsageRecord" u
          ON u."customerId" = k.customer_id AND u."featureId" = k.feature_id
          AND (k.start_at IS NULL OR u."timestamp" >= k.start_at)
          AND (k.end_at IS NULL OR u."timestamp" < k.end_at)
        GROUP BY k.index`;
      const byIndex = new Map(sums.map((row) => [Number(row.index), Number(row.used)]));
      return keys.map((_key, index) => byIndex.get(index) ?? 0);
    },
    { cacheKeyFn: (key) => `${key.customerId}|${key.featureId}|${key.start?.toISOString() ?? ""}|${key.end?.toISOString() ?? ""}` },
  );
}
