// Everything the entitlement engine needs about customers, loaded for many customers at
// once and through the cache: their subscriptions (phases, add-ons, overrides) and grants,
// and the project's catalog. A fixed number of statements whatever the number of customers,
// none when the cache has them.
import DataLoader from "dataloader";
import type { CustomerSubscription, Feature, Grant, PrismaClient } from "../generated/prisma/client.ts";
import {
  createEntitlementsMemo,
  type CustomerState,
  type Entitlement,
  type EntitlementFilters,
  type FeatureInfo,
} from "../domain/entitlements.ts";
import type { Catalog, CustomerRows, EntitlementCache } from "../cache/entitlement-cache.ts";
import { notRemovedWhere } from "../db/rules-in-sql.ts";
import type { EntitlementValue, EntitlementValueInput, FeatureLevel } from "../domain/entitlement-value.ts";

export interface LoadedCustomerState {
  state: CustomerState;
  /** entitlementsAt(state, …), remembered while it holds (shared by every request reading these rows). */
  entitlementsAt: (t: Date, filters?: EntitlementFilters) => Entitlement[];
  /** The stored rows behind the state, for the GraphQL types that expose them. */
  featureRows: ReadonlyMap<string, Feature>;
  subscriptionRows: ReadonlyMap<string, CustomerSubscription>;
  grantRows: ReadonlyMap<string, Grant>;
}

/** The value fields of a stored plan entitlement or grant. */
export const storedValue = (row: EntitlementValue): EntitlementValue => ({
  isEnabled: row.isEnabled,
  usageLimit: row.usageLimit,
  isUnlimited: row.isUnlimited,
  resetPeriod: row.resetPeriod,
  isSoftLimit: row.isSoftLimit,
  staticValue: row.staticValue,
});

/** An override keeps only the fields it sets; the rest are inherited (null in storage). */
const overrideValueOf = (row: { [K in keyof EntitlementValue]: EntitlementValue[K] | null }): EntitlementValueInput =>
  Object.fromEntries(Object.entries(storedValue(row as EntitlementValue)).filter(([, value]) => value !== null));

export const featureInfo = (row: Feature): FeatureInfo => ({
  id: row.id,
  key: row.key,
  type: row.type,
  levels: (row.levels as unknown as FeatureLevel[] | null) ?? [],
  alertThresholds: row.alertThresholds ?? [],
});

/** A project's whole catalog: features, plans and the plan entitlements in force. */
export async function loadCatalog(prisma: PrismaClient, projectId: string): Promise<Catalog> {
  const [features, plans, planEntitlements] = await Promise.all([
    prisma.feature.findMany({ where: { projectId } }),
    prisma.plan.findMany({ where: { projectId } }),
    prisma.planEntitlement.findMany({ where: { plan: { projectId }, ...notRemovedWhere }, orderBy: { id: "asc" } }),
  ]);
  const groupByPlan = <T extends { planId: string }>(rows: T[]) => {
    const byPlan = new Map<string, T[]>();
    for (const row of rows) byPlan.set(row.planId, [...(byPlan.get(row.planId) ?? []), row]);
    return byPlan;
  };
  return {
    featuresById: new Map(features.map((row) => [row.id, row])),
    featuresByKey: new Map(features.map((row) => [row.key, row])),
    plans: new Map(plans.map((row) => [row.id, row])),
    entitlementsByPlan: groupByPlan(planEntitlements),
    engine: {
      features: new Map(features.map((row) => [row.id, featureInfo(row)])),
      plans: new Map(plans.map((plan) => [plan.id, { id: plan.id, name: plan.name }])),
      entitlementsByPlan: groupByPlan(
        planEntitlements.map((row) => ({ planId: row.planId, featureId: row.featureId, value: storedValue(row) })),
      ),
    },
  };
}

/** Each customer's subscriptions (with phases, add-ons, overrides in force) and grants. */
async function loadCustomerRows(prisma: PrismaClient, projectId: string, customerIds: string[]): Promise<Map<string, CustomerRows>> {
  const [subscriptions, grants] = await Promise.all([
    prisma.customerSubscription.findMany({
      where: { projectId, customerId: { in: customerIds } },
      include: { phases: true, addons: true, overrides: { where: notRemovedWhere } },
      orderBy: { id: "asc" },
    }),
    prisma.grant.findMany({ where: { projectId, customerId: { in: customerIds } }, orderBy: { id: "asc" } }),
  ]);
  const rows = new Map<string, CustomerRows>(customerIds.map((id) => [id, { subscriptions: [], grants: [] }]));
  for (const subscription of subscriptions) rows.get(subscription.customerId)?.subscriptions.push(subscription);
  for (const grant of grants) rows.get(grant.customerId)?.grants.push(grant);
  return rows;
}

const NO_ROWS: CustomerRows = { subscriptions: [], grants: [] };

/** The engine's view of one customer: its own rows and the catalog parts they refer to. */
function customerStateOf(rows: CustomerRows, catalog: Catalog): LoadedCustomerState {
  const planIds = new Set(rows.subscriptions.flatMap((s) => [...s.phases.map((p) => p.planId), ...s.addons.map((a) => a.addonId)]));
  const state: CustomerState = {
    features: catalog.engine.features,
    plans: catalog.engine.plans,
    planEntitlements: [...planIds].flatMap((planId) => catalog.engine.entitlementsByPlan.get(planId) ?? []),
    subscriptions: rows.subscriptions.map((s) => ({
      ...s,
      overrides: s.overrides.map((o) => ({ id: o.id, featureId: o.featureId, value: overrideValueOf(o) })),
    })),
    grants: rows.grants.map((g) => ({ ...g, value: storedValue(g) })),
  };
  return {
    featureRows: catalog.featuresById,
    subscriptionRows: new Map(rows.subscriptions.map((s) => [s.id, s])),
    grantRows: new Map(rows.grants.map((g) => [g.id, g])),
    state,
    entitlementsAt: createEntitlementsMemo(state),
  };
}

// Cached rows and catalogs are immutable and replaced, never edited, on invalidation: the
// state built from a pair of them is built once and shared by the requests that read them.
const statesByRows = new WeakMap<CustomerRows, { catalog: Catalog; loaded: LoadedCustomerState }>();
function memoizedStateOf(rows: CustomerRows, catalog: Catalog): LoadedCustomerState {
  const known = statesByRows.get(rows);
  if (known?.catalog === catalog) return known.loaded;
  const loaded = customerStateOf(rows, catalog);
  statesByRows.set(rows, { catalog, loaded });
  return loaded;
}

/** Everything the engine needs about many customers, through the cache: rows for the misses in one go. */
export function createCustomerStateLoader(prisma: PrismaClient, projectId: string | null, cache: EntitlementCache) {
  return new DataLoader<string, LoadedCustomerState>(async (customerIds) => {
    if (!projectId) return customerIds.map(() => customerStateOf(NO_ROWS, EMPTY_CATALOG));
    const [rows, catalog] = await Promise.all([
      cache.customerRows(projectId, customerIds, async (missing) => {
        const loaded = await loadCustomerRows(prisma, projectId, missing);
        return missing.map((customerId) => loaded.get(customerId));
      }),
      cache.catalog(projectId, () => loadCatalog(prisma, projectId)),
    ]);
    return customerIds.map((_customerId, index) => memoizedStateOf(rows[index] ?? NO_ROWS, catalog));
  });
}

const EMPTY_CATALOG: Catalog = {
  featuresById: new Map(),
  featuresByKey: new Map(),
  plans: new Map(),
  entitlementsByPlan: new Map(),
  engine: { features: new Map(), plans: new Map(), entitlementsByPlan: new Map() },
};
