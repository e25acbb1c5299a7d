// Per-request DataLoaders: every lookup by key from a resolver is batched here, and every
// one is scoped to the caller's project.
import DataLoader from "dataloader";
import type { Customer, Feature, PlanEntitlement, PrismaClient, SubscriptionPhase } from "../generated/prisma/client.ts";
import { createCustomerStateLoader, createUsageLoader, loadCatalog } from "./customer-state.ts";
import { createEntitlementCache, type EntitlementCache } from "../cache/entitlement-cache.ts";

/** For jobs and tests that must read the database itself. */
const NO_CACHE = createEntitlementCache({ enabled: false });

export interface Loaders {
  featureByKey: DataLoader<string, Feature | null>;
  featureById: DataLoader<string, Feature | null>;
  /** A subscription's phases, oldest first. */
  phasesBySubscriptionId: DataLoader<string, SubscriptionPhase[]>;
  customerByExternalId: DataLoader<string, Customer | null>;
  customerById: DataLoader<string, Customer | null>;
  /** Key: `${planId}:${featureId}`; removed entitlements are absent. */
  planEntitlement: DataLoader<string, PlanEntitlement | null>;
  /** What the entitlement engine needs about a customer (by customer id). */
  customerState: ReturnType<typeof createCustomerStateLoader>;
  /** Usage sums per (customer, feature, period). */
  usage: ReturnType<typeof createUsageLoader>;
}

const byKey = <T, K extends string>(rows: T[], keyOf: (row: T) => K) => new Map(rows.map((row) => [keyOf(row), row]));

/**
 * The loaders of one request (or one job) in one project. Catalog and customer lookups go
 * through `cache` (default: none, straight to the database).
 */
export function createLoaders(prisma: PrismaClient, projectId: string | null, cache: EntitlementCache = NO_CACHE): Loaders {
  const scoped = <V>(load: (keys: readonly string[], projectId: string) => Promise<Map<string, V>>) =>
    new DataLoader<string, V | null>(async (keys) => {
      if (!projectId) return keys.map(() => null);
      const found = await load(keys, projectId);
      return keys.map((key) => found.get(key) ?? null);
    });
  const catalog = (projectId: string) => cache.catalog(projectId, () => loadCatalog(prisma, projectId));
  /** Customer records by `id:<id>` or `externalId:<externalId>`. */
  const customers = (field: "id" | "externalId") =>
    scoped(async (keys, projectId) => {
      const found = await cache.customers(projectId, keys.map((key) => `${field}:${key}`), async (missing) => {
        const values = missing.map((key) => key.slice(field.length + 1));
        const rows = await prisma.customer.findMany({ where: { projectId, [field]: { in: values } } });
        return byKey(rows, (row) => `${field}:${row[field]}`);
      });
      return new Map([...found].map(([key, row]) => [key.slice(field.length + 1), row]));
    });

  return {
    customerState: createCustomerStateLoader(prisma, projectId, cache),
    usage: createUsageLoader(prisma, projectId, cache),
    featureByKey: scoped(async (_keys, projectId) => new Map((await catalog(projectId)).featuresByKey)),
    featureById: scoped(async (_keys, projectId) => new Map((await catalog(projectId)).featuresById)),
    phasesBySubscriptionId: new DataLoader(async (subscriptionIds) => {
      const phases = projectId
        ? await prisma.subscriptionPhase.findMany({
            where: { subscriptionId: { in: [...subscriptionIds] }, subscription: { projectId } },
            orderBy: { startsAt: "asc" },
          })
        : [];
      return subscriptionIds.map((id) => phases.filter((phase) => phase.subscriptionId === id));
    }),
    customerByExternalId: customers("externalId"),
    customerById: customers("id"),
    planEntitlement: scoped(async (keys, projectId) => {
      const { entitlementsByPlan } = await catalog(projectId);
      const found = new Map<string, PlanEntitlement>();
      for (const key of keys) {
        const [planId = "", featureId = ""] = key.split(":");
        const row = entitlementsByPlan.get(planId)?.find((candidate) => candidate.featureId === featureId);
        if (row) found.set(key, row);
      }
      return found;
    }),
  };
}
