// The per-request context: who is asking, and the scope the services work in for them.
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { RawTransactions } from "./db/raw-transaction.ts";
import type { Caller } from "./auth/api-keys.ts";
import { createLoaders, type Loaders } from "./loaders/index.ts";
import type { Logger } from "./logger.ts";
import type { EventBus } from "./events/bus.ts";
import type { EventFeed } from "./events/feed.ts";
import type { EntitlementCache } from "./cache/entitlement-cache.ts";
import type { ProjectScope } from "./services/scope.ts";
import type { AddressPolicy } from "./net/public-address.ts";
import { unauthenticated } from "./errors.ts";

export interface Context {
  /** For plugin-prisma's selection-aware reads; writes go through src/services. */
  readonly prisma: PrismaClient;
  readonly caller: Caller | null;
  readonly requestId: string;
  readonly log: Logger;
  readonly loaders: Loaders;
  readonly customerTokenSecret: string;
  /** Where webhook endpoints may point (WEBHOOK_ALLOW_PRIVATE_URLS), checked when one is registered. */
  readonly webhookAddresses: AddressPolicy;
  /** Notes between instances, and logged events for this instance's subscribers (shared by every request). */
  readonly events: EventBus;
  /** The event log as subscribers follow it. */
  readonly feed: EventFeed;
  /** This instance's cache of catalogs, customers' rows and API keys. */
  readonly cache: EntitlementCache;
  /** The caller's project as the services see it; null without a credential. */
  readonly scope: ProjectScope | null;
}

export function createContext(input: {
  prisma: PrismaClient;
  rawTransaction: RawTransactions;
  caller: Caller | null;
  requestId: string;
  log: Logger;
  customerTokenSecret: string;
  webhookAddresses: AddressPolicy;
  events: EventBus;
  feed: EventFeed;
  cache: EntitlementCache;
}): Context {
  const { prisma, rawTransaction, caller, cache, events, log } = input;
  const loaders = createLoaders(prisma, caller?.projectId ?? null, cache);
  const scope = caller
    ? { prisma, rawTransaction, projectId: caller.projectId, loaders, cache, events, log, visibleCustomerId: caller.customerId }
    : null;
  return { ...input, loaders, scope };
}

/**
 * The same caller with loaders of its own: for each event a subscription executes, so that
 * what one event's execution loaded (its memo of customers, rows, usage) is not what a
 * later event answers with, however long the subscriber listens.
 */
export function withFreshLoaders(context: Context): Context {
  const loaders = createLoaders(context.prisma, context.caller?.projectId ?? null, context.cache);
  return { ...context, loaders, scope: context.scope && { ...context.scope, loaders } };
}

/** The caller's scope; every query and write is confined to its project. */
export function scopeOf(context: Pick<Context, "scope">): ProjectScope {
  if (!context.scope) throw unauthenticated();
  return context.scope;
}

/** The caller's project. */
export const projectIdOf = (context: Pick<Context, "scope">): string => scopeOf(context).projectId;
