// How often one credential may call: a budget of operations per window for each API key
// (and each customer token's customer), and a separate, larger one for recording usage
// (recordUsage, consumeEntitlement, and recordUsages a point per record), so that metering
// at volume never starves the checks and reads of the same key, nor the other way round. In
// memory per instance by default; with Redis the budget holds across instances, and falls
// back to memory while Redis is away (an outage never refuses or fails a request because of
// the limiter).
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

export type RateBucket = "requests" | "usage";

interface Budget {
  /** Operations allowed per window; 0 turns the limit off. */
  points: number;
  windowSeconds: number;
}

export type RateLimitSettings = Record<RateBucket, Budget>;

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  requests: { points: 10_000, windowSeconds: 10 },
  usage: { points: 20_000, windowSeconds: 10 },
};

export interface RateLimiter {
  /**
   * Takes `points` (default 1) from `key`'s budget: null when allowed, else how long until it
   * may retry. A refusal takes nothing: what is left stays for a smaller call.
   */
  consume(bucket: RateBucket, key: string, points?: number): Promise<{ retryAfterMs: number } | null>;
}

/** The operations that record usage, counted against the usage budget. */
export const USAGE_OPERATIONS: ReadonlySet<string> = new Set(["recordUsage", "recordUsages", "consumeEntitlement"]);

/** How long a budget may wait for Redis before the instance counts alone. */
const RATE_STORE_TIMEOUT_MS = 250;

/**
 * The Redis connection rate budgets are kept on: a command Redis does not answer in time
 * (a partition leaves the socket open and silent) fails over to the memory budget instead
 * of holding the request; while disconnected, commands fail at once and it reconnects.
 */
export function connectRateStore(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: RATE_STORE_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  }).on("error", () => {});
}

export function createRateLimiter(settings: RateLimitSettings, redis?: Redis): RateLimiter {
  const limiterFor = (bucket: RateBucket): RateLimiterAbstract | undefined => {
    const { points, windowSeconds: duration } = settings[bucket];
    if (points <= 0) return undefined;
    const keyPrefix = `entitlements:rate:${bucket}`;
    const memory = new RateLimiterMemory({ points, duration, keyPrefix });
    if (!redis) return memory;
    return new RateLimiterRedis({ storeClient: redis, points, duration, keyPrefix, rejectIfRedisNotReady: true, insuranceLimiter: memory });
  };
  const limiters: Record<RateBucket, RateLimiterAbstract | undefined> = { requests: limiterFor("requests"), usage: limiterFor("usage") };
  return {
    async consume(bucket, key, points = 1) {
      const limiter = limiters[bucket];
      if (!limiter) return null;
      try {
        await limiter.consume(key, points);
        return null;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) {
          // The store counted the refused points: given back, a batch of 1,000 records over a
          // budget with 500 left leaves those 500 to a batch that fits.
          await limiter.reward(key, points).catch(() => {});
          return { retryAfterMs: Math.max(1, refusal.msBeforeNext) };
        }
        return null; // the store failed and its insurance too: let the request through
      }
    },
  };
}
