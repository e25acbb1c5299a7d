// The cache's own rules, without a database: read-through with one load for the misses,
// invalidation, the guard against storing what a write made stale, and stepping aside
// while other instances' invalidations cannot arrive.
import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { defaultCacheCapacity } from "../../src/cache/capacity.ts";
import {
  createEntitlementCache as createCache,
  type CacheOptions,
  type CustomerRows,
  type UsageKey,
} from "../../src/cache/entitlement-cache.ts";

const createEntitlementCache = (options: Partial<CacheOptions> = {}) => createCache({ maxCustomers: 100, ...options });

const rowsOf = (label: string): CustomerRows => ({ subscriptions: [], grants: [{ id: label } as CustomerRows["grants"][number]] });
const labelOf = (rows: CustomerRows | undefined) => rows?.grants[0]?.id;

/** A loader that answers `label-<id>` for each id and remembers what it was asked. */
function loader(label: string) {
  const calls: string[][] = [];
  return {
    calls,
    load: async (missing: string[]) => {
      calls.push(missing);
      return missing.map((id) => rowsOf(`${label}-${id}`));
    },
  };
}

describe("entitlement cache", () => {
  it("loads only the misses, in one call, and serves hits from memory", async () => {
    const cache = createEntitlementCache();
    const first = loader("v1");
    await cache.customerRows("p1", ["a", "b"], first.load);
    const again = await cache.customerRows("p1", ["a", "b", "c"], first.load);
    expect(first.calls).toEqual([["a", "b"], ["c"]]);
    expect(again.map(labelOf)).toEqual(["v1-a", "v1-b", "v1-c"]);
  });

  it("keeps projects apart", async () => {
    const cache = createEntitlementCache();
    await cache.customerRows("p1", ["a"], loader("one").load);
    const other = await cache.customerRows("p2", ["a"], loader("two").load);
    expect(labelOf(other[0])).toBe("two-a");
  });

  it("reloads a customer after its rows were invalidated, and only that customer", async () => {
    const cache = createEntitlementCache();
    await cache.customerRows("p1", ["a", "b"], loader("v1").load);
    cache.invalidate({ projectId: "p1", customerIds: ["a"] });
    const second = loader("v2");
    const after = await cache.customerRows("p1", ["a", "b"], second.load);
    expect(second.calls).toEqual([["a"]]);
    expect(after.map(labelOf)).toEqual(["v2-a", "v1-b"]);
  });

  it("does not store what a load read before an invalidation that happened meanwhile", async () => {
    const cache = createEntitlementCache();
    let release: () => void = () => {};
    const slow = cache.customerRows("p1", ["a"], async (missing) => {
      await new Promise<void>((resolve) => (release = resolve));
      return missing.map((id) => rowsOf(`stale-${id}`));
    });
    await Promise.resolve();
    cache.invalidate({ projectId: "p1", customerIds: ["a"] });
    release();
    expect(labelOf((await slow)[0])).toBe("stale-a");
    const fresh = loader("fresh");
    expect(labelOf((await cache.customerRows("p1", ["a"], fresh.load))[0])).toBe("fresh-a");
    expect(fresh.calls).toEqual([["a"]]);
  });

  it("drops a project's catalog and API keys when told", async () => {
    const cache = createEntitlementCache();
    let loads = 0;
    const catalog = async () => {
      loads++;
      return {
        featuresById: new Map(),
        featuresByKey: new Map(),
        plans: new Map(),
        entitlementsByPlan: new Map(),
        engine: { features: new Map(), plans: new Map(), entitlementsByPlan: new Map() },
      };
    };
    await cache.catalog("p1", catalog);
    await cache.catalog("p1", catalog);
    expect(loads).toBe(1);
    cache.invalidate({ projectId: "p1", catalog: true });
    await cache.catalog("p1", catalog);
    expect(loads).toBe(2);

    const key = { id: "k", projectId: "p1", revokedAt: null } as never;
    let keyLoads = 0;
    const find = async () => {
      keyLoads++;
      return key;
    };
    await cache.apiKey("hash", find);
    await cache.apiKey("hash", find);
    cache.invalidate({ projectId: "p2", apiKeys: true });
    await cache.apiKey("hash", find);
    expect(keyLoads).toBe(1);
    cache.invalidate({ projectId: "p1", apiKeys: true });
    await cache.apiKey("hash", find);
    expect(keyLoads).toBe(2);
  });

  it("reads through to the loader while the relay is down, and starts empty when it returns", async () => {
    const cache = createEntitlementCache();
    const warm = loader("v1");
    await cache.customerRows("p1", ["a"], warm.load);
    cache.setRelayConnected(false);
    const during = loader("down");
    await cache.customerRows("p1", ["a"], during.load);
    await cache.customerRows("p1", ["a"], during.load);
    expect(during.calls).toEqual([["a"], ["a"]]);
    cache.setRelayConnected(true);
    const after = loader("back");
    await cache.customerRows("p1", ["a"], after.load);
    await cache.customerRows("p1", ["a"], after.load);
    expect(after.calls).toEqual([["a"]]);
  });

  it("counts hits and misses by kind", async () => {
    const registry = new Registry();
    const cache = createEntitlementCache({ registry });
    await cache.customerRows("p1", ["a", "b"], loader("v1").load);
    await cache.customerRows("p1", ["a"], loader("v1").load);
    const text = await registry.metrics();
    expect(text).toContain('entitlements_cache_lookups_total{kind="customer_rows",result="miss"} 2');
    expect(text).toContain('entitlements_cache_lookups_total{kind="customer_rows",result="hit"} 1');
  });

  describe("customer records", () => {
    const acme = { id: "c1", externalId: "acme", projectId: "p1" } as never;
    const records = () => {
      const calls: string[][] = [];
      return {
        calls,
        load: async (missing: { by: string; value: string }[]) => {
          calls.push(missing.map((key) => `${key.by}:${key.value}`));
          return missing.map((key) => (key.value === "acme" || key.value === "c1" ? acme : undefined));
        },
      };
    };

    it("answer in the order asked, an unknown one in its place, and cache the known ones only", async () => {
      const cache = createEntitlementCache();
      const first = records();
      await cache.customers("p1", [{ by: "externalId", value: "acme" }], first.load);
      const mixed = await cache.customers(
        "p1",
        [
          { by: "externalId", value: "nobody" },
          { by: "externalId", value: "acme" },
          { by: "id", value: "c9" },
        ],
        first.load,
      );
      expect(mixed).toEqual([undefined, acme, undefined]);
      await cache.customers("p1", [{ by: "externalId", value: "nobody" }], first.load);
      expect(first.calls).toEqual([["externalId:acme"], ["externalId:nobody", "id:c9"], ["externalId:nobody"]]);
    });

    it("by externalId are dropped when any customer of the project changes, by id only that customer's", async () => {
      const cache = createEntitlementCache();
      const first = records();
      await cache.customers(
        "p1",
        [
          { by: "externalId", value: "acme" },
          { by: "id", value: "c1" },
        ],
        first.load,
      );
      cache.invalidate({ projectId: "p1", customerIds: ["c2"] });
      const second = records();
      await cache.customers(
        "p1",
        [
          { by: "externalId", value: "acme" },
          { by: "id", value: "c1" },
        ],
        second.load,
      );
      expect(second.calls).toEqual([["externalId:acme"]]);
    });

    it("are not stored when a write happened while they were being read", async () => {
      const cache = createEntitlementCache();
      let release: () => void = () => {};
      const slow = cache.customers("p1", [{ by: "id", value: "c1" }], async (missing) => {
        await new Promise<void>((resolve) => (release = resolve));
        return missing.map(() => acme);
      });
      await Promise.resolve();
      cache.invalidate({ projectId: "p1", customerIds: ["c1"] });
      release();
      await slow;
      const fresh = records();
      await cache.customers("p1", [{ by: "id", value: "c1" }], fresh.load);
      expect(fresh.calls).toEqual([["id:c1"]]);
    });
  });

  it("does not cache an unknown API key: a key created later is found", async () => {
    const cache = createEntitlementCache();
    expect(await cache.apiKey("hash", async () => null)).toBeNull();
    const key = { id: "k", projectId: "p1", revokedAt: null } as never;
    expect(await cache.apiKey("hash", async () => key)).toBe(key);
  });

  it("does not store a catalog read while the catalog was edited", async () => {
    const cache = createEntitlementCache();
    const empty = () => ({
      featuresById: new Map(),
      featuresByKey: new Map(),
      plans: new Map(),
      entitlementsByPlan: new Map(),
      engine: { features: new Map(), plans: new Map(), entitlementsByPlan: new Map() },
    });
    let release: () => void = () => {};
    const slow = cache.catalog("p1", async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return empty();
    });
    await Promise.resolve();
    cache.invalidate({ projectId: "p1", catalog: true });
    release();
    await slow;
    let loads = 0;
    await cache.catalog("p1", async () => {
      loads++;
      return empty();
    });
    expect(loads).toBe(1);
  });

  describe("usage sums", () => {
    const period = (customerId: string): UsageKey => ({ customerId, featureId: "f", start: new Date("2026-01-01T00:00:00Z"), end: null });
    const sums = (value: number) => {
      const calls: string[][] = [];
      return {
        calls,
        load: async (missing: UsageKey[]) => {
          calls.push(missing.map((key) => key.customerId));
          return missing.map(() => value);
        },
      };
    };

    it("are served from memory until that customer records usage, here or on another instance", async () => {
      const cache = createEntitlementCache();
      await cache.usage("p1", [period("a"), period("b")], sums(1).load);
      const cached = sums(2);
      expect(await cache.usage("p1", [period("a"), period("b")], cached.load)).toEqual([1, 1]);
      expect(cached.calls).toEqual([]);
      cache.invalidate({ projectId: "p1", usageOf: ["a"] });
      expect(await cache.usage("p1", [period("a"), period("b")], cached.load)).toEqual([2, 1]);
      expect(cached.calls).toEqual([["a"]]);
    });

    it("are kept per period: another period of the same customer is summed on its own", async () => {
      const cache = createEntitlementCache();
      await cache.usage("p1", [period("a")], sums(1).load);
      const other = sums(7);
      const february = { ...period("a"), start: new Date("2026-02-01T00:00:00Z") };
      expect(await cache.usage("p1", [period("a"), february], other.load)).toEqual([1, 7]);
      expect(other.calls).toEqual([["a"]]);
    });

    it("are not stored when usage was recorded while they were being summed", async () => {
      const cache = createEntitlementCache();
      let release: () => void = () => {};
      const slow = cache.usage("p1", [period("a")], async (missing) => {
        await new Promise<void>((resolve) => (release = resolve));
        return missing.map(() => 5);
      });
      await Promise.resolve();
      cache.invalidate({ projectId: "p1", usageOf: ["a"] });
      release();
      expect(await slow).toEqual([5]);
      const fresh = sums(6);
      expect(await cache.usage("p1", [period("a")], fresh.load)).toEqual([6]);
      expect(fresh.calls).toHaveLength(1);
    });

    it("can be read as held, at once and loading nothing: only what is stored, per customer and period, counted as hits", async () => {
      const registry = new Registry();
      const cache = createEntitlementCache({ registry });
      await cache.usage("p1", [period("a"), period("b")], sums(3).load);
      const february = { ...period("a"), start: new Date("2026-02-01T00:00:00Z") };
      expect(cache.heldUsage("p1", [period("a"), february, period("b"), period("c")])).toEqual([3, undefined, 3, undefined]);
      expect(cache.heldUsage("p2", [period("a")])).toEqual([undefined]);
      cache.invalidate({ projectId: "p1", usageOf: ["a"] });
      expect(cache.heldUsage("p1", [period("a"), period("b")])).toEqual([undefined, 3]);
      const lookups = (await registry.getSingleMetric("entitlements_cache_lookups_total")?.get())?.values ?? [];
      const hits = lookups.find((value) => value.labels.kind === "usage" && value.labels.result === "hit")?.value;
      expect(hits).toBe(3);
      // Stepped aside (Redis away), it holds nothing.
      cache.setRelayConnected(false);
      expect(cache.heldUsage("p1", [period("b")])).toEqual([undefined]);
    });

    it("a usage write leaves cached rows alone", async () => {
      const cache = createEntitlementCache();
      await cache.customerRows("p1", ["a"], loader("v1").load);
      cache.invalidate({ projectId: "p1", usageOf: ["a"] });
      const second = loader("v2");
      await cache.customerRows("p1", ["a"], second.load);
      expect(second.calls).toEqual([]);
    });
  });

  it("sizes itself to the heap: a third of it at about 40 KB a customer, 500 at least, 20,000 at most", () => {
    const MB = 2 ** 20;
    expect(defaultCacheCapacity(192 * MB)).toBe(1638);
    expect(defaultCacheCapacity(16 * MB)).toBe(500);
    expect(defaultCacheCapacity(4096 * MB)).toBe(20_000);
  });
});
