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
 * The loaders of one request (or one job) in one project, each made on first use: a check
 * needs three of the eight, and a subscriber holds its context for as long as it listens.
 * Catalog and customer lookups go through `cache` (default: none, straight to the database).
 */
export function createLoaders(prisma: PrismaClient, projectId: string | null, cache: EntitlementCache = NO_CACHE): Loaders {
  return new ProjectLoaders(prisma, projectId, cache);
}

class ProjectLoaders implements Loaders {
  #customerState?: Loaders["customerState"];
  #usage?: Loaders["usage"];
  #featureByKey?: Loaders["featureByKey"];
  #featureById?: Loaders["featureById"];
  #phasesBySubscriptionId?: Loaders["phasesBySubscriptionId"];
  #customerByExternalId?: Loaders["customerByExternalId"];
  #customerById?: Loaders["customerById"];
  #planEntitlement?: Loaders["planEntitlement"];

  constructor(
    private readonly prisma: PrismaClient,
    private readonly projectId: string | null,
    private readonly cache: EntitlementCache,
  ) {}

  get customerState() {
    return (this.#customerState ??= createCustomerStateLoader(this.prisma, this.projectId, this.cache));
  }
  get usage() {
    return (this.#usage ??= createUsageLoader(this.prisma, this.projectId, this.cache));
  }
  // The cached catalog's own maps, read, not copied (a copy per request was a fifth of a check's garbage).
  get featureByKey() {
    return (this.#featureByKey ??= this.scoped(async (_keys, projectId) => (await this.catalog(projectId)).featuresByKey));
  }
  get featureById() {
    return (this.#featureById ??= this.scoped(async (_keys, projectId) => (await this.catalog(projectId)).featuresById));
  }
  get phasesBySubscriptionId() {
    return (this.#phasesBySubscriptionId ??= new DataLoader(async (subscriptionIds) => {
      const phases = this.projectId
        ? await this.prisma.subscriptionPhase.findMany({
            where: { subscriptionId: { in: [...subscriptionIds] }, subscription: { projectId: this.projectId } },
            orderBy: { startsAt: "asc" },
          })
        : [];
      return subscriptionIds.map((id) => phases.filter((phase) => phase.subscriptionId === id));
    }));
  }
  get customerByExternalId() {
    return (this.#customerByExternalId ??= this.customers("externalId"));
  }
  get customerById() {
    return (this.#customerById ??= this.customers("id"));
  }
  get planEntitlement() {
    return (this.#planEntitlement ??= this.scoped(async (keys, projectId) => {
      const { entitlementsByPlan } = await this.catalog(projectId);
      const found = new Map<string, PlanEntitlement>();
      for (const key of keys) {
        const [planId = "", featureId = ""] = key.split(":");
        const row = entitlementsByPlan.get(planId)?.find((candidate) => candidate.featureId === featureId);
        if (row) found.set(key, row);
      }
      return found;
    }));
  }

  private scoped<V>(load: (keys: readonly string[], projectId: string) => Promise<ReadonlyMap<string, V>>) {
    return new DataLoader<string, V | null>(async (keys) => {
      if (!this.projectId) return keys.map(() => null);
      const found = await load(keys, this.projectId);
      return keys.map((key) => found.get(key) ?? null);
    });
  }

  private catalog(projectId: string) {
    return this.cache.catalog(projectId, () => loadCatalog(this.prisma, projectId));
  }

  /** Customer records by `id:<id>` or `externalId:<externalId>`. */
  private customers(field: "id" | "externalId") {
    return this.scoped(async (keys, projectId) => {
      const found = await this.cache.customers(projectId, keys.map((key) => `${field}:${key}`), async (missing) => {
        const values = missing.map((key) => key.slice(field.length + 1));
        const rows = await this.prisma.customer.findMany({ where: { projectId, [field]: { in: values } } });
        return byKey(rows, (row) => `${field}:${row[field]}`);
      });
      return new Map([...found].map(([key, row]) => [key.slice(field.length + 1), row]));
    });
  }
}
