// Per-request DataLoaders: every lookup by key from a resolver is batched here, and every
// one is scoped to the caller's project.
import DataLoader from "dataloader";
import type { Customer, Feature, PlanEntitlement, PrismaClient, SubscriptionPhase } from "../generated/prisma/client.ts";
import { createCustomerStateLoader, createUsageLoader } from "./customer-state.ts";

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

export function createLoaders(prisma: PrismaClient, projectId: string | null): Loaders {
  const scoped = <V>(load: (keys: readonly string[], projectId: string) => Promise<Map<string, V>>) =>
    new DataLoader<string, V | null>(async (keys) => {
      if (!projectId) return keys.map(() => null);
      const found = await load(keys, projectId);
      return keys.map((key) => found.get(key) ?? null);
    });

  return {
    customerState: createCustomerStateLoader(prisma, projectId),
    usage: createUsageLoader(prisma),
    featureByKey: scoped(async (keys, projectId) =>
      byKey(await prisma.feature.findMany({ where: { projectId, key: { in: [...keys] } } }), (f) => f.key),
    ),
    featureById: scoped(async (keys, projectId) =>
      byKey(await prisma.feature.findMany({ where: { projectId, id: { in: [...keys] } } }), (f) => f.id),
    ),
    phasesBySubscriptionId: new DataLoader(async (subscriptionIds) => {
      const phases = projectId
        ? await prisma.subscriptionPhase.findMany({
            where: { subscriptionId: { in: [...subscriptionIds] }, subscription: { projectId } },
            orderBy: { startsAt: "asc" },
          })
        : [];
      return subscriptionIds.map((id) => phases.filter((phase) => phase.subscriptionId === id));
    }),
    customerByExternalId: scoped(async (keys, projectId) =>
      byKey(
        await prisma.customer.findMany({ where: { projectId, externalId: { in: [...keys] } } }),
        (c) => c.externalId,
      ),
    ),
    customerById: scoped(async (keys, projectId) =>
      byKey(await prisma.customer.findMany({ where: { projectId, id: { in: [...keys] } } }), (c) => c.id),
    ),
    planEntitlement: scoped(async (keys, projectId) => {
      const pairs = keys.map((key) => {
        const [planId = "", featureId = ""] = key.split(":");
        return { planId, featureId };
      });
      const rows = await prisma.planEntitlement.findMany({
        where: { removedAt: null, plan: { projectId }, OR: pairs },
      });
      return byKey(rows, (row) => `${row.planId}:${row.featureId}`);
    }),
  };
}
