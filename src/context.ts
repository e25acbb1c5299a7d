// The per-request context: who is asking, the database, and the request's DataLoaders.
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { Caller } from "./auth/api-keys.ts";
import { createLoaders, type Loaders } from "./loaders/index.ts";
import type { Logger } from "./logger.ts";
import type { EventBus, Invalidation } from "./events/bus.ts";
import type { EntitlementCache } from "./cache/entitlement-cache.ts";
import { ApiError, ErrorCode, unauthenticated } from "./errors.ts";

export interface Context {
  readonly prisma: PrismaClient;
  readonly caller: Caller | null;
  readonly requestId: string;
  readonly log: Logger;
  readonly loaders: Loaders;
  readonly customerTokenSecret: string;
  /** Where entitlement changes are published (shared by every request). */
  readonly events: EventBus;
  /** This instance's cache of catalogs, customers' rows and API keys. */
  readonly cache: EntitlementCache;
}

export function createContext(input: {
  prisma: PrismaClient;
  caller: Caller | null;
  requestId: string;
  log: Logger;
  customerTokenSecret: string;
  events: EventBus;
  cache: EntitlementCache;
}): Context {
  return {
    ...input,
    loaders: createLoaders(input.prisma, input.caller?.projectId ?? null, input.cache),
  };
}

/**
 * Runs a write, then (committed or not) drops what it may have changed from this instance's
 * cache and tells the other instances to do the same.
 */
export async function cachedRowsWrite<T>(context: Context, change: Omit<Invalidation, "projectId">, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } finally {
    const invalidation = { projectId: projectIdOf(context), ...change };
    context.cache.invalidate(invalidation);
    context.events.broadcastInvalidation(invalidation);
  }
}

/**
 * A customer token may only see its own customer: any other one, found or not, is
 * PERMISSION_DENIED (so a token learns nothing of other customers). API keys pass.
 */
export function requireVisibleCustomer(context: Context, customerId: string | undefined): void {
  const allowed = context.caller?.customerId;
  if (allowed !== undefined && allowed !== customerId) {
    throw new ApiError(ErrorCode.PERMISSION_DENIED, "This customer token may only read its own customer.");
  }
}

/** The caller's project; every query and write is scoped to it. */
export function projectIdOf(context: Pick<Context, "caller">): string {
  if (!context.caller) throw unauthenticated();
  return context.caller.projectId;
}
