// A per-instance cache of what entitlements are computed from: each project's catalog
// (features, plans, plan entitlements), each customer's own rows (subscriptions with phases,
// add-ons and overrides; grants), customer records, API keys, and usage sums per
// (customer, feature, period).
//
// Correctness rests on invalidation, not on expiry:
// - every write that touches cached rows or records usage invalidates after it commits: this instance
//   drops the entries at once, and the event bus relays the invalidation to the others;
// - a load that started before an invalidation does not store what it read (the epoch guard
//   in readThrough);
// - while the relay to other instances is down, invalidations from them could be missed, so
//   the cache steps aside (reads go to the database) and starts empty when the relay returns;
// - a TTL bounds what a lost message could leave behind.
// How many customers it holds is the caller's choice (src/config.ts sizes it to the heap).
import { LRUCache } from "lru-cache";
import { Counter, type Registry } from "prom-client";
import type { FeatureInfo, PlanEntitlementRow, PlanInfo } from "../domain/entitlements.ts";
import type {
  ApiKey,
  Customer,
  CustomerSubscription,
  Feature,
  Grant,
  Plan,
  PlanEntitlement,
  SubscriptionAddon,
  SubscriptionOverride,
  SubscriptionPhase,
} from "../generated/prisma/client.ts";

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

/** What a write changed in cached rows; relayed to the other instances as it is. */
export interface Invalidation {
  projectId: string;
  /** Customers whose subscriptions, grants or record changed. */
  customerIds?: string[];
  /** Customers who recorded usage. */
  usageOf?: string[];
  catalog?: boolean;
  apiKeys?: boolean;
}

/** A customer record looked up by its id or by the project's own externalId. */
export interface CustomerKey {
  by: "id" | "externalId";
  value: string;
}

/** Customers' usage sums as a reader first found them in the cache (undefined: none held), by customer id. */
export type PinnedUsage = Map<string, ReadonlyMap<string, number> | undefined>;

/** The usage that counts against an entitlement: its customer, feature and period. */
export interface UsageKey {
  customerId: string;
  featureId: string;
  start: Date | null;
  end: Date | null;
}

export interface CacheOptions {
  /** Customers whose rows are kept (least recently used go first); see defaultCacheCapacity. */
  maxCustomers: number;
  /** How long any entry may live at most. */
  ttlMs?: number;
  /** Registers hit and miss counters here. */
  registry?: Registry;
  /** Off: every read goes to the database (ENTITLEMENT_CACHE=false). */
  enabled?: boolean;
}

type Kind = "catalog" | "customer_rows" | "customer" | "api_key" | "usage";

/** Where one kind of entry is kept, under keys of type K. */
interface Region<K, V> {
  kind: Kind;
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  /** Bumped by every invalidation of this region: a load that saw another value stores nothing. */
  epoch(): number;
}

export function createEntitlementCache({ maxCustomers, ttlMs = 300_000, registry, enabled = true }: CacheOptions) {
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
  /** Per customer: usage sums by period, so that one usage write drops that customer's alone. */
  const usage = new LRUCache<string, Map<string, number>>({ max: maxCustomers, ttl: ttlMs });
  let epoch = 0;
  // Usage is written far more often than anything else: its own epoch keeps those writes
  // from discarding loads of rows and catalogs.
  let usageEpoch = 0;
  let active = enabled;

  /**
   * Values for `keys`, in their order (undefined: unknown, and not cached), loading the
   * missing ones with one call to `load`, which answers them in the order asked.
   */
  async function readThrough<K, V>(
    region: Region<K, V>,
    keys: readonly K[],
    load: (missing: K[]) => Promise<readonly (V | undefined)[]>,
  ): Promise<(V | undefined)[]> {
    if (!active) return [...(await load([...keys]))];
    const values = keys.map((key) => region.get(key));
    const missingAt = values.flatMap((value, index) => (value === undefined ? [index] : []));
    lookups.inc({ kind: region.kind, result: "hit" }, keys.length - missingAt.length);
    if (missingAt.length === 0) return values;
    lookups.inc({ kind: region.kind, result: "miss" }, missingAt.length);
    const startedAt = region.epoch();
    const loaded = await load(missingAt.map((index) => keys[index]!));
    // Stored only if nothing was invalidated meanwhile: what was read may predate a write.
    const store = region.epoch() === startedAt && active;
    missingAt.forEach((index, position) => {
      const value = loaded[position];
      values[index] = value;
      if (store && value !== undefined) region.set(keys[index]!, value);
    });
    return values;
  }

  const rowsEpoch = () => epoch;
  const inLru = <K, V extends object>(kind: Kind, lru: LRUCache<string, V>, keyOf: (key: K) => string): Region<K, V> => ({
    kind,
    get: (key) => lru.get(keyOf(key)),
    set: (key, value) => lru.set(keyOf(key), value),
    epoch: rowsEpoch,
  });
  const customerRowsKey = (projectId: string, customerId: string) => `${projectId}/${customerId}`;
  const customerKey = (projectId: string, key: CustomerKey) => `${projectId}/${key.by}/${key.value}`;
  const periodKey = (key: UsageKey) => `${key.featureId}/${key.start?.getTime() ?? ""}/${key.end?.getTime() ?? ""}`;
  const usageRegion = (projectId: string): Region<UsageKey, number> => ({
    kind: "usage",
    get: (key) => usage.get(customerRowsKey(projectId, key.customerId))?.get(periodKey(key)),
    set: (key, value) => {
      const customer = customerRowsKey(projectId, key.customerId);
      const sums = usage.get(customer) ?? new Map<string, number>();
      if (sums.size === 0) usage.set(customer, sums);
      sums.set(periodKey(key), value);
    },
    epoch: () => usageEpoch,
  });
  const catalogRegion = inLru<string, Catalog>("catalog", catalogs, (projectId) => projectId);
  const apiKeyRegion = inLru<string, ApiKey>("api_key", apiKeys, (hash) => hash);

  return {
    /** Each customer's own rows, in the order of `customerIds`. */
    customerRows: (
      projectId: string,
      customerIds: readonly string[],
      load: (missing: string[]) => Promise<readonly (CustomerRows | undefined)[]>,
    ) =>
      readThrough(
        inLru<string, CustomerRows>("customer_rows", rows, (id) => customerRowsKey(projectId, id)),
        customerIds,
        load,
      ),

    /** Customer records, in the order of `keys`; unknown ones are not cached. */
    customers: (
      projectId: string,
      keys: readonly CustomerKey[],
      load: (missing: CustomerKey[]) => Promise<readonly (Customer | undefined)[]>,
    ) =>
      readThrough(
        inLru<CustomerKey, Customer>("customer", customers, (key) => customerKey(projectId, key)),
        keys,
        load,
      ),

    async catalog(projectId: string, load: () => Promise<Catalog>): Promise<Catalog> {
      const [catalog] = await readThrough(catalogRegion, [projectId], async () => [await load()]);
      return catalog!;
    },

    /** The stored key with this hash, revoked or not; unknown hashes are not cached. */
    async apiKey(hash: string, load: () => Promise<ApiKey | null>): Promise<ApiKey | null> {
      const [key] = await readThrough(apiKeyRegion, [hash], async () => [(await load()) ?? undefined]);
      return key ?? null;
    },

    /** Usage sums, in the order of `keys`. Sums change with every usage write, so every one invalidates them. */
    async usage(
      projectId: string,
      keys: readonly UsageKey[],
      load: (missing: UsageKey[]) => Promise<readonly number[]>,
    ): Promise<number[]> {
      const sums = await readThrough(usageRegion(projectId), keys, load);
      return sums.map((sum) => sum ?? 0);
    },

    /**
     * The sums the cache holds for `keys`, in their order (undefined: not held), without
     * loading anything or waiting: a read whose usage is all cached needs no promise per
     * entitlement. With `pinned`, each customer's sums are those `pinned` already holds
     * for that customer, else the cache's now, which are then pinned: a usage write drops a
     * customer's sums as a whole, so the sums first seen stay one consistent state of them.
     */
    heldUsage(projectId: string, keys: readonly UsageKey[], pinned: PinnedUsage = new Map()): (number | undefined)[] {
      if (!active) return keys.map(() => undefined);
      let customerId: string | undefined;
      let customerSums: ReadonlyMap<string, number> | undefined;
      let hits = 0;
      const sums = keys.map((key) => {
        if (key.customerId !== customerId) {
          customerId = key.customerId;
          if (pinned.has(customerId)) customerSums = pinned.get(customerId);
          else {
            customerSums = usage.get(customerRowsKey(projectId, customerId));
            pinned.set(customerId, customerSums);
          }
        }
        const sum = customerSums?.get(periodKey(key));
        if (sum !== undefined) hits++;
        return sum;
      });
      lookups.inc({ kind: "usage", result: "hit" }, hits);
      return sums;
    },

    /** Drops what `change` names, on this instance. */
    invalidate(change: Invalidation) {
      const { projectId } = change;
      if (change.usageOf?.length) {
        usageEpoch++;
        for (const customerId of change.usageOf) usage.delete(customerRowsKey(projectId, customerId));
      }
      if (!change.customerIds?.length && !change.catalog && !change.apiKeys) return;
      epoch++;
      for (const customerId of change.customerIds ?? []) {
        rows.delete(customerRowsKey(projectId, customerId));
        customers.delete(customerKey(projectId, { by: "id", value: customerId }));
      }
      if (change.customerIds?.length) {
        // Records by externalId are few per customer; drop the project's rather than index them.
        const byExternalId = customerKey(projectId, { by: "externalId", value: "" });
        for (const key of customers.keys()) if (key.startsWith(byExternalId)) customers.delete(key);
      }
      if (change.catalog) catalogs.delete(projectId);
      if (change.apiKeys) {
        for (const [hash, key] of apiKeys.entries()) if (key.projectId === projectId) apiKeys.delete(hash);
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
