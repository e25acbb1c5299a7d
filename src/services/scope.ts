// What a service works in: one project, its database, its loaders and cache, the event bus.
// A request's context provides one (src/context.ts), and so does a job (jobScope); nothing
// here knows of GraphQL.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { RawTransactions } from "../db/raw-transaction.ts";
import type { EntitlementCache, Invalidation } from "../cache/entitlement-cache.ts";
import type { EventBus } from "../events/bus.ts";
import type { Loaders } from "../loaders/index.ts";
import type { Logger } from "../logger.ts";
import { ApiError, ErrorCode } from "../errors.ts";

export interface ProjectScope {
  readonly prisma: PrismaClient;
  /** Transactions of raw SQL, for hot writes that need no more (src/db/raw-transaction.ts). */
  readonly rawTransaction: RawTransactions;
  readonly projectId: string;
  /** Lookups by key, batched; a request's own, or a job's. */
  readonly loaders: Loaders;
  readonly cache: EntitlementCache;
  readonly events: EventBus;
  readonly log: Logger;
  /** Set for a customer token: the one customer this caller may see. */
  readonly visibleCustomerId?: string;
}

/**
 * A customer token may only see its own customer: any other one, found or not, is
 * PERMISSION_DENIED (so a token learns nothing of other customers). API keys pass.
 */
export function requireVisibleCustomer(scope: Pick<ProjectScope, "visibleCustomerId">, customerId: string | undefined): void {
  const allowed = scope.visibleCustomerId;
  if (allowed !== undefined && allowed !== customerId) {
    throw new ApiError(ErrorCode.PERMISSION_DENIED, "This customer token may only read its own customer.");
  }
}

/**
 * Runs a write, then (committed or not) drops what it may have changed from this instance's
 * cache and tells the other instances to do the same.
 */
export async function invalidatingWrite<T>(
  scope: ProjectScope,
  change: Omit<Invalidation, "projectId">,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } finally {
    const invalidation = { projectId: scope.projectId, ...change };
    scope.cache.invalidate(invalidation);
    scope.events.broadcastInvalidation(invalidation);
  }
}
