// A per-instance cache of what entitlements are computed from: each project's catalog
// (features, plans, plan entitlements), each customer's own rows (subscriptions with phases,
// add-ons and overrides; grants), customer records, API keys, and usage sums per
// (customer, feature, period).
//
// Correctness rests on invalidation, not on expiry:
// - every write that touches cached rows or records usage invalidates after it commits: this instance
//   drops the entries at once, and the event bus relays the invalidation to the others;
// - a load that started before an invalidation does not store what it read (an epoch guard);
// - while the relay to other instances is down, invalidations from them could be missed, so
//   the cache steps aside (reads go to the database) and starts empty when the relay returns;
// - a TTL bounds what a lost message could leave behind.
import { getHeapStatistics } from "node:v8";
import { LRUCache } from "lru-cache";
import { Counter, type Registry } from "prom-client";
import type { Invalidation } from "../events/bus.ts";
import type { FeatureInfo, PlanEntitlementRow, PlanInfo } from "../domain/entitlements.ts";
import type { ApiKey, Customer, CustomerSubscription, Feature, Grant, Plan, PlanEntitlement, SubscriptionAddon, SubscriptionOverride, SubscriptionPhase } from "../generated/prisma/client.ts";

export interface CustomerRows {
  subscriptions: (CustomerSubscription & { phases: SubscriptionPhase[]; addons: SubscriptionAddon[]; overrides: SubscriptionOverride[] })[];
  grants: Grant[];
}

export interface Catalog {
  featuresById: ReadonlyMap<string, Feature>;
  featuresByKey: ReadonlyMap<string, Feature>;
  plans: ReadonlyMap<string, Plan>;
  /** Plan entitlements in force (removed ones left out), by plan id. */
  entitlementsByPlan: ReadonlyMap<string, readonly PlanEntitlement[]>;
  /** The same, in the shapes the entitlement engine takes, built once per load. */
  engine: {
    features: ReadonlyMap<string, FeatureInfo>;
    plans: ReadonlyMap<string, PlanInfo>;
    entitlementsByPlan: ReadonlyMap<string, readonly PlanEntitlementRow[]>;
  };
}


/** What one cached customer costs, measured with about 30 entitlements (docs/performance.md), with room. */
export const BYTES_PER_CACHED_CUSTOMER = 40 * 1024;

/**
 * How many customers the cache keeps by default: a third of the JavaScript heap's limit
 * (`--max-old-space-size`, HEAP_LIMIT_MB under `npm start`), between 500 and 20,000.
 */
export function defaultCacheCapacity(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.max(500, Math.min(20_000, Math.floor(heapLimitBytes / 3 / BYTES_PER_CACHED_CUSTOMER)));
}

export interface CacheOptions {
  /** Customers whose rows are kept (least recently used go first); default: defaultCacheCapacity(). */
  maxCustomers?: number;
  /** How long any entry may live at most. */
  ttlMs?: number;
  /** Registers hit and miss counters here. */
  registry?: Registry;
  /** Off: every read goes to the database (ENTITLEMENT_CACHE=false). */
  enabled?: boolean;
}

type Kind = "catalog" | "customer_rows" | "customer" | "api_key" | "usage";

export function createEntitlementCache({ maxCustomers = defaultCacheCapacity(), ttlMs = 300_000, registry, enabled = true }: CacheOptions = {}) {
  const lookups = new Counter({
    name: "entitlements_cache_lookups_total",
    help: "Entitlement cache lookups, by kind of entry and result (hit, miss).",
    labelNames: ["kind", "result"] as const,
    registers: registry ? [registry] : [],
  });
  const rows = new LRUCache<string, CustomerRows>({ max: maxCustomers, ttl: ttlMs });
  const customers = new LRUCache<string, Customer>({ max: maxCustomers * 2, ttl: ttlMs });
  const catalogs = new LRUCache<string, Catalog>({ max: 1_000, ttl: ttlMs });
  const apiKeys = new LRUCache<string, ApiKey>({ max: 10_000, ttl: ttlMs });
  /** Per customer: usage sums by usage key (customer, feature, period). */
  const usage = new LRUCache<string, Map<string, number>>({ max: maxCustomers, ttl: ttlMs });
  let epoch = 0;
  // Usage is written far more often than anything else: its own epoch keeps those writes
  // from discarding loads of rows and catalogs.
  let usageEpoch = 0;
  let active = enabled;

  /** Reads `keys` through `lru`, loading the missing ones with one call to `load`. */
  async function readThrough<V extends object>(
    kind: Kind,
    lru: LRUCache<string, V>,
    keys: readonly string[],
    load: (missing: string[]) => Promise<ReadonlyMap<string, V>>,
  ): Promise<Map<string, V>> {
    if (!active) return new Map(await load([...keys]));
    const found = new Map<string, V>();
    const missing: string[] = [];
    for (const key of keys) {
      const value = lru.get(key);
      if (value === undefined) missing.push(key);
      else found.set(key, value);
    }
    lookups.inc({ kind, result: "hit" }, found.size);
    if (missing.length === 0) return found;
    lookups.inc({ kind, result: "miss" }, missing.length);
    const startedAt = epoch;
    const loaded = await load(missing);
    for (const [key, value] of loaded) {
      // Stored only if nothing was invalidated meanwhile: what was read may predate a write.
      if (epoch === startedAt && active) lru.set(key, value);
      found.set(key, value);
    }
    return found;
  }

  const scoped = (projectId: string, key: string) => `${projectId}:${key}`;
  const unscope = (projectId: string, map: ReadonlyMap<string, unknown>) => {
    const prefix = `${projectId}:`;
    return (key: string) => (key.startsWith(prefix) ? map.get(key.slice(prefix.length)) : undefined);
  };

  /** Values for `keys` of one project, through `lru` keyed by project. */
  async function readProject<V extends object>(
    kind: Kind,
    lru: LRUCache<string, V>,
    projectId: string,
    keys: readonly string[],
    load: (missing: string[]) => Promise<ReadonlyMap<string, V>>,
  ): Promise<Map<string, V>> {
    const found = await readThrough(kind, lru, keys.map((key) => scoped(projectId, key)), async (missing) => {
      const loaded = await load(missing.map((key) => key.slice(projectId.length + 1)));
      const valueOf = unscope(projectId, loaded);
      return new Map(missing.flatMap((key) => (valueOf(key) === undefined ? [] : [[key, valueOf(key) as V]])));
    });
    return new Map(keys.flatMap((key) => (found.has(scoped(projectId, key)) ? [[key, found.get(scoped(projectId, key))!]] : [])));
  }

  return {
    /** Each customer's own rows (customers without rows get empty ones). */
    customerRows: (projectId: string, customerIds: readonly string[], load: (missing: string[]) => Promise<ReadonlyMap<string, CustomerRows>>) =>
      readProject("customer_rows", rows, projectId, customerIds, load),

    /** Customer records by `id:<id>` or `externalId:<externalId>`; unknown ones are not cached. */
    customers: (projectId: string, keys: readonly string[], load: (missing: string[]) => Promise<ReadonlyMap<string, Customer>>) =>
      readProject("customer", customers, projectId, keys, load),

    async catalog(projectId: string, load: () => Promise<Catalog>): Promise<Catalog> {
      const found = await readThrough("catalog", catalogs, [projectId], async () => new Map([[projectId, await load()]]));
      return found.get(projectId)!;
    },

    /** The stored key with this hash, revoked or not; unknown hashes are not cached. */
    async apiKey(hash: string, load: () => Promise<ApiKey | null>): Promise<ApiKey | null> {
      const found = await readThrough("api_key", apiKeys, [hash], async () => {
        const key = await load();
        return new Map(key ? [[hash, key]] : []);
      });
      return found.get(hash) ?? null;
    },

    /**
     * Usage sums for `keys` (each names one customer, `customerOf`), loading the missing ones
     * with one call. Sums change with every usage write, so every one invalidates them.
     */
    async usage(
      projectId: string,
      keys: readonly string[],
      customerOf: (key: string) => string,
      load: (missing: string[]) => Promise<ReadonlyMap<string, number>>,
    ): Promise<Map<string, number>> {
      if (!active) return new Map(await load([...keys]));
      const found = new Map<string, number>();
      const missing: string[] = [];
      for (const key of keys) {
        const value = usage.get(scoped(projectId, customerOf(key)))?.get(key);
        if (value === undefined) missing.push(key);
        else found.set(key, value);
      }
      lookups.inc({ kind: "usage", result: "hit" }, found.size);
      if (missing.length === 0) return found;
      lookups.inc({ kind: "usage", result: "miss" }, missing.length);
      const startedAt = usageEpoch;
      const loaded = await load(missing);
      const store = usageEpoch === startedAt && active;
      for (const key of missing) {
        const value = loaded.get(key) ?? 0;
        found.set(key, value);
        if (!store) continue;
        const customerKey = scoped(projectId, customerOf(key));
        const sums = usage.get(customerKey) ?? new Map<string, number>();
        if (sums.size === 0) usage.set(customerKey, sums);
        sums.set(key, value);
      }
      return found;
    },

    /** Drops what `change` names, on this instance. */
    invalidate(change: Invalidation) {
      if (change.usageOf?.length) {
        usageEpoch++;
        for (const customerId of change.usageOf) usage.delete(scoped(change.projectId, customerId));
      }
      if (!change.customerIds?.length && !change.catalog && !change.apiKeys) return;
      epoch++;
      for (const customerId of change.customerIds ?? []) {
        rows.delete(scoped(change.projectId, customerId));
        customers.delete(scoped(change.projectId, `id:${customerId}`));
      }
      if (change.customerIds?.length) {
        // Records by externalId are few per customer; drop the project's rather than index them.
        for (const key of customers.keys()) if (key.startsWith(`${change.projectId}:externalId:`)) customers.delete(key);
      }
      if (change.catalog) catalogs.delete(change.projectId);
      if (change.apiKeys) {
        for (const [hash, key] of apiKeys.entries()) if (key.projectId === change.projectId) apiKeys.delete(hash);
      }
    },

    /** Steps aside while invalidations from other instances could be lost; starts empty when they flow again. */
    setRelayConnected(connected: boolean) {
      if (!enabled) return;
      if (connected && !active) {
        epoch++;
        usageEpoch++;
        for (const lru of [rows, customers, catalogs, apiKeys, usage] as LRUCache<string, object>[]) lru.clear();
      }
      active = connected;
    },
  };
}

export type EntitlementCache = ReturnType<typeof createEntitlementCache>;
