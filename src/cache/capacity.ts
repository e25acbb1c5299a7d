// How big the entitlement cache is made by default: sized to the process's heap.
import { getHeapStatistics } from "node:v8";

/** What one cached customer costs, measured with about 30 entitlements (docs/performance.md), with room. */
const BYTES_PER_CACHED_CUSTOMER = 40 * 1024;

/**
 * How many customers the cache keeps by default: a third of the JavaScript heap's limit
 * (`--max-old-space-size`, HEAP_LIMIT_MB under `npm start`), between 500 and 20,000.
 */
export function defaultCacheCapacity(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.max(500, Math.min(20_000, Math.floor(heapLimitBytes / 3 / BYTES_PER_CACHED_CUSTOMER)));
}
