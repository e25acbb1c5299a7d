// The GraphQL server as a fetch handler: schema, context, and yoga plugins. Exported for
// tests, which call `app.fetch(...)` without opening a port; src/server.ts listens.
import { randomBytes, randomUUID } from "node:crypto";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { apiKeyFromHeaders, authenticateApiKey, type Caller } from "./auth/api-keys.ts";
import { createEventBus, type EventBus } from "./events/bus.ts";
import { createEventFeed } from "./events/feed.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { defaultCacheCapacity } from "./cache/capacity.ts";
import { createEntitlementCache, type CacheOptions, type EntitlementCache } from "./cache/entitlement-cache.ts";
import { useMetricsEndpoint } from "./plugins/metrics.ts";
import { looksLikeCustomerToken, verifyCustomerToken } from "./auth/customer-tokens.ts";
import { createContext, type Context } from "./context.ts";
import { graphiqlOptions, renderGraphiQLOffline } from "./graphiql.ts";
import type { Database } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import type { AddressPolicy } from "./net/public-address.ts";
import type { Readiness } from "./db/readiness.ts";
import { createErrorMapper, deferToResult, useErrorCodes, useRequestErrorMasking } from "./plugins/errors.ts";
import { useHealthEndpoints } from "./plugins/health.ts";
import { useRateLimits } from "./plugins/rate-limits.ts";
import { createRateLimiter, DEFAULT_RATE_LIMITS, type RateLimiter } from "./limits/rate-limits.ts";
import { DEFAULT_QUERY_LIMITS, useQueryLimits, type QueryLimits } from "./plugins/query-limits.ts";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { requestIdOf, useRequestId } from "./plugins/request-id.ts";
import { useReadableParameters } from "./plugins/request-parameters.ts";
import { documentCache } from "./plugins/document-cache.ts";
import { useSharedSubscriptionResults } from "./plugins/shared-subscription-results.ts";
import { useCursorValidation } from "./plugins/cursors.ts";
import { schema } from "./schema/index.ts";

export interface AppOptions {
  database: Database;
  log: Logger;
  /** Readiness for /readyz: the database answers and is migrated. */
  isReady: () => Promise<Readiness>;
  /** Signs and verifies customer tokens (CUSTOMER_TOKEN_SECRET); default: random, for this app only. */
  customerTokenSecret?: string;
  /** Notes between instances and logged events for this app's subscribers; default: a bus of this app's own. */
  events?: EventBus;
  /** How often this app's subscribers' projects' event logs are read for events other instances logged (default 1000 ms). */
  eventPollIntervalMs?: number;
  /** GraphiQL on a browser's GET /graphql; default on. */
  graphiql?: boolean;
  /** Schema introspection (`__schema`, `__type`) and "Did you mean" suggestions; default on. */
  introspection?: boolean;
  /** What one request may ask; default DEFAULT_QUERY_LIMITS. */
  limits?: Partial<QueryLimits>;
  /** Budgets per credential; default: DEFAULT_RATE_LIMITS in this process's memory. */
  rateLimiter?: RateLimiter;
  /** Operations in one batched request (a JSON array); 0 refuses batches. Default 10. */
  batchLimit?: number;
  /** Served at /metrics; default: the process's and the database's counters. */
  metrics?: Metrics;
  /** Default: a cache of this app's own, made with `cacheSettings`, its counters on `metrics`. */
  cache?: EntitlementCache;
  cacheSettings?: Partial<Omit<CacheOptions, "registry">>;
  /** Where webhook endpoints may point; default: public addresses only. */
  webhookAddresses?: AddressPolicy;
}

/** graphql-ws connection parameters such as `{ authorization: "Bearer …" }`, as headers. */
const headersOf = (params: Record<string, unknown> | undefined) =>
  new Headers(Object.entries(params ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string"));

export type App = YogaServerInstance<Record<string, unknown>, Context>;

export function createApp({
  database,
  log,
  isReady,
  customerTokenSecret = randomBytes(32).toString("base64url"),
  events = createEventBus(),
  eventPollIntervalMs,
  graphiql = true,
  introspection = true,
  limits,
  batchLimit = 10,
  rateLimiter = createRateLimiter(DEFAULT_RATE_LIMITS),
  metrics = createMetrics({ statementCount: database.statementCount }),
  cacheSettings,
  webhookAddresses = { allowPrivate: false },
  cache = createEntitlementCache({
    ...cacheSettings,
    maxCustomers: cacheSettings?.maxCustomers ?? defaultCacheCapacity(),
    registry: metrics.registry,
  }),
}: AppOptions): App {
  // Other instances' writes reach this cache through the bus (Redis when configured).
  events.onRemoteInvalidation(
    (invalidation) => cache.invalidate(invalidation),
    (connected) => cache.setRelayConnected(connected),
  );
  const authenticate = async (credential: string): Promise<Caller | null> => {
    if (!looksLikeCustomerToken(credential)) return authenticateApiKey(database.prisma, credential, cache);
    const claims = await verifyCustomerToken(customerTokenSecret, credential);
    return claims && { projectId: claims.projectId, customerId: claims.customerId, scopes: new Set() };
  };
  const feed = createEventFeed({ prisma: database.prisma, bus: events, log, pollIntervalMs: eventPollIntervalMs });
  const mapError = createErrorMapper(log);
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    batching: batchLimit > 0 && { limit: batchLimit },
    // The body's size is limited by useQueryLimits (413, QUERY_TOO_COMPLEX, chunked bodies
    // too); yoga's own limit would pipe every body through a TransformStream on top.
    maxRequestBodySize: false,
    parserAndValidationCache: documentCache(),
    landingPage: false,
    graphiql: graphiql && graphiqlOptions,
    renderGraphiQL: renderGraphiQLOffline,
    // Yoga masks what fails before a context exists (an unreadable request) without the
    // request: useErrorCodes maps it on its way out, with the request's id.
    maskedErrors: { maskError: deferToResult },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(" ")),
      info: (...args) => log.info(args.map(String).join(" ")),
      warn: (...args) => log.warn(args.map(String).join(" ")),
      // Errors reaching clients are logged once, with the request id, by the error masker.
      error: (...args) => log.debug(args.map(String).join(" ")),
    },
    context: async ({ request, connectionParams }: { request?: Request; connectionParams?: Record<string, unknown> }) => {
      // Over WebSocket the credential comes in the connection's parameters, as headers would.
      const credential = request ? apiKeyFromHeaders(request.headers) : apiKeyFromHeaders(headersOf(connectionParams));
      const requestId = request ? requestIdOf(request) : randomUUID();
      let caller: Caller | null = null;
      try {
        caller = credential ? await authenticate(credential) : null;
      } catch (error) {
        throw mapError(error, requestId); // the database away while checking the key: SERVICE_UNAVAILABLE with this id
      }
      return createContext({
        prisma: database.prisma,
        rawTransaction: database.rawTransaction,
        caller,
        requestId,
        log,
        customerTokenSecret,
        webhookAddresses,
        events,
        feed,
        cache,
      });
    },
    plugins: [
      useRequestId(),
      useReadableParameters(),
      useHealthEndpoints(isReady),
      useMetricsEndpoint(metrics.registry),
      ...useQueryLimits({ ...DEFAULT_QUERY_LIMITS, ...limits }),
      useRateLimits(rateLimiter),
      useSharedSubscriptionResults(),
      useCursorValidation(),
      ...(introspection ? [] : [useDisableIntrospection(), blockFieldSuggestionsPlugin()]),
      useRequestErrorMasking(mapError),
      useErrorCodes(mapError),
    ],
  });
}
