// The per-request context: who is asking, the database, and the request's DataLoaders.
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { Caller } from "./auth/api-keys.ts";
import { createLoaders, type Loaders } from "./loaders/index.ts";
import type { Logger } from "./logger.ts";
import type { EventBus } from "./events/bus.ts";
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
}

export function createContext(input: {
  prisma: PrismaClient;
  caller: Caller | null;
  requestId: string;
  log: Logger;
  customerTokenSecret: string;
  events: EventBus;
}): Context {
  return {
    ...input,
    loaders: createLoaders(input.prisma, input.caller?.projectId ?? null),
  };
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
export function projectIdOf(context: Context): string {
  if (!context.caller) throw unauthenticated();
  return context.caller.projectId;
}
