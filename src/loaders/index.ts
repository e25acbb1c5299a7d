// Per-request DataLoaders: every lookup by key from a resolver is batched here, and every
// one is scoped to the caller's project.
import DataLoader from "dataloader";
import type { Customer, Feature, PlanEntitlement, PrismaClient, SubscriptionPhase } from "../generated/prisma/client.ts";
import { createCustomerStateLoader, loadCatalog } from "./customer-state.ts";
import { createUsageLoader, usageSumsThroughCache } from "./usage.ts";
import { drawnBefore } from "../db/credit-draws.ts";
import type { PlanEntitlementRow } from "../domain/entitlements.ts";
import {
  createEntitlementCache,
  type CustomerKey,
  type EntitlementCache,
  type PinnedUsage,
  type UsageKey,
} from "../cache/entitlement-cache.ts";

/** For jobs and tests that must read the database itself. */
const NO_CACHE = createEntitlementCache({ enabled: false, maxCustomers: 1 });

interface PlanFeature {
  planId: string;
  featureId: string;
}

export interface Loaders {
  featureByKey: DataLoader<string, Feature | null>;
  featureById: DataLoader<string, Feature | null>;
  /** A subscription's phases, oldest first. */
  phasesBySubscriptionId: DataLoader<string, SubscriptionPhase[]>;
  customerByExternalId: DataLoader<string, Customer | null>;
  customerById: DataLoader<string, Customer | null>;
  /** What a plan gives for a feature; removed entitlements are absent. */
  planEntitlement: DataLoader<PlanFeature, PlanEntitlement | null, string>;
  /** What the entitlement engine needs about a customer (by customer id). */
  customerState: ReturnType<typeof createCustomerStateLoader>;
  /** Usage sums per (customer, feature, period). */
  usage: ReturnType<typeof createUsageLoader>;
  /** The usage sums the cache already holds for `keys` (undefined: not held), at once; misses are `usage`'s to load. */
  heldUsage(keys: readonly UsageKey[]): (number | undefined)[];
  /** Usage sums for keys a caller has gathered itself, in their order: the cache's, the rest in one statement. */
  usageSums(keys: readonly UsageKey[]): Promise<number[]>;
  /** A plan's (or add-on's) entitlements in force, in the entitlement engine's shape: what a previewed plan change brings. */
  planEntitlementRows(planId: string): Promise<readonly PlanEntitlementRow[]>;
  /** What records before `at` drew from a CREDIT grant (docs/rules.md §8). */
  creditDrawn: DataLoader<{ grantId: string; at: Date }, number, string>;
  /** Forgets the usage sums (and credit draws) this request has answered, for a request that changed usage itself and reads it again. */
  forgetUsage(): void;
}

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
  #creditDrawn?: Loaders["creditDrawn"];
  /** The cache's usage sums of each customer as this request first found them: one answer per key within a request. */
  readonly #pinnedUsage: PinnedUsage = new Map();
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
    this.#customerState ??= createCustomerStateLoader(this.prisma, this.projectId, this.cache);
    return this.#customerState;
  }
  get usage() {
    this.#usage ??= createUsageLoader((keys) => this.usageSums(keys));
    return this.#usage;
  }
  async usageSums(keys: readonly UsageKey[]) {
    const held = this.heldUsage(keys);
    const missing = keys.filter((_key, index) => held[index] === undefined);
    if (missing.length === 0) return held as number[];
    const loaded = await usageSumsThroughCache(this.prisma, this.projectId, this.cache, missing);
    let next = 0;
    return held.map((sum) => sum ?? loaded[next++] ?? 0);
  }
  heldUsage(keys: readonly UsageKey[]) {
    return this.projectId ? this.cache.heldUsage(this.projectId, keys, this.#pinnedUsage) : keys.map(() => undefined);
  }
  async planEntitlementRows(planId: string) {
    if (!this.projectId) return [];
    return (await this.catalog(this.projectId)).engine.entitlementsByPlan.get(planId) ?? [];
  }
  get creditDrawn() {
    this.#creditDrawn ??= new DataLoader((keys) => drawnBefore(this.prisma, keys), {
      cacheKeyFn: ({ grantId, at }) => `${grantId}|${at.getTime()}`,
    });
    return this.#creditDrawn;
  }
  forgetUsage() {
    this.#pinnedUsage.clear();
    this.#usage?.clearAll();
    this.#creditDrawn?.clearAll();
  }
  // The cached catalog's own maps, read, not copied (a copy per request was a fifth of a check's garbage).
  get featureByKey() {
    this.#featureByKey ??= this.scoped(async (_keys, projectId) => (await this.catalog(projectId)).featuresByKey);
    return this.#featureByKey;
  }
  get featureById() {
    this.#featureById ??= this.scoped(async (_keys, projectId) => (await this.catalog(projectId)).featuresById);
    return this.#featureById;
  }
  get phasesBySubscriptionId() {
    this.#phasesBySubscriptionId ??= new DataLoader(async (subscriptionIds) => {
      const phases = this.projectId
        ? await this.prisma.subscriptionPhase.findMany({
            where: { subscriptionId: { in: [...subscriptionIds] }, subscription: { projectId: this.projectId } },
            orderBy: { startsAt: "asc" },
          })
        : [];
      return subscriptionIds.map((id) => phases.filter((phase) => phase.subscriptionId === id));
    });
    return this.#phasesBySubscriptionId;
  }
  get customerByExternalId() {
    this.#customerByExternalId ??= this.customers("externalId");
    return this.#customerByExternalId;
  }
  get customerById() {
    this.#customerById ??= this.customers("id");
    return this.#customerById;
  }
  get planEntitlement() {
    this.#planEntitlement ??= new DataLoader<PlanFeature, PlanEntitlement | null, string>(
      async (keys) => {
        if (!this.projectId) return keys.map(() => null);
        const { entitlementsByPlan } = await this.catalog(this.projectId);
        return keys.map(({ planId, featureId }) => entitlementsByPlan.get(planId)?.find((row) => row.featureId === featureId) ?? null);
      },
      { cacheKeyFn: ({ planId, featureId }) => `${planId}/${featureId}` },
    );
    return this.#planEntitlement;
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

  /** Customer records by id or by externalId, through the cache. */
  private customers(by: CustomerKey["by"]) {
    return new DataLoader<string, Customer | null>(async (values) => {
      const projectId = this.projectId;
      if (!projectId) return values.map(() => null);
      const found = await this.cache.customers(
        projectId,
        values.map((value) => ({ by, value })),
        async (missing) => {
          const rows = await this.prisma.customer.findMany({ where: { projectId, [by]: { in: missing.map((key) => key.value) } } });
          const byValue = new Map(rows.map((row) => [row[by], row]));
          return missing.map((key) => byValue.get(key.value));
        },
      );
      return found.map((customer) => customer ?? null);
    });
  }
}
