// Within one request a usage sum has one answer, whether it came from the cache at once or
// from a load, even if a write elsewhere changes the cache meanwhile; a request that changed
// usage itself forgets its answers and reads afresh.
import { expect, it } from "vitest";
import { createEntitlementCache, type UsageKey } from "../../src/cache/entitlement-cache.ts";
import type { PrismaClient } from "../../src/generated/prisma/client.ts";
import { createLoaders } from "../../src/loaders/index.ts";

const period = (customerId: string): UsageKey => ({ customerId, featureId: "f", start: new Date("2026-01-01T00:00:00Z"), end: null });
const storeUsage = (cache: ReturnType<typeof createEntitlementCache>, key: UsageKey, sum: number) =>
  cache.usage("p1", [key], async () => [sum]);

// No SQL may run here: every sum is the cache's or the request's own.
const noDatabase = {} as PrismaClient;

it("answers a key as it first did for the rest of the request, until the request forgets", async () => {
  const cache = createEntitlementCache({ maxCustomers: 10 });
  const loaders = createLoaders(noDatabase, "p1", cache);
  await storeUsage(cache, period("a"), 5);
  expect(loaders.heldUsage([period("a"), period("b")])).toEqual([5, undefined]);

  // Another request records usage: the cache drops the sum and holds the new one.
  cache.invalidate({ projectId: "p1", usageOf: ["a"] });
  await storeUsage(cache, period("a"), 9);
  expect(cache.heldUsage("p1", [period("a")])).toEqual([9]);

  expect(loaders.heldUsage([period("a")])).toEqual([5]);
  expect(await loaders.usageSums([period("a")])).toEqual([5]);
  expect(await loaders.usage.load(period("a"))).toBe(5);

  loaders.forgetUsage();
  expect(loaders.heldUsage([period("a")])).toEqual([9]);
  expect(await loaders.usage.load(period("a"))).toBe(9);
});
