// The GraphQL server as a fetch handler: schema, context, and yoga plugins. Exported for
// tests, which call `app.fetch(...)` without opening a port; src/server.ts listens.
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { apiKeyFromHeaders, authenticateApiKey } from "./auth/api-keys.ts";
import { createContext, type Context } from "./context.ts";
import type { Database } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import type { Readiness } from "./db/readiness.ts";
import { createErrorMasker, useErrorCodes } from "./plugins/errors.ts";
import { useHealthEndpoints } from "./plugins/health.ts";
import { requestIdOf, useRequestId } from "./plugins/request-id.ts";
import { schema } from "./schema/index.ts";

export interface AppOptions {
  database: Database;
  log: Logger;
  /** Readiness for /readyz: the database answers and is migrated. */
  isReady: () => Promise<Readiness>;
  graphiql?: boolean;
}

export type App = YogaServerInstance<Record<string, unknown>, Context>;

export function createApp({ database, log, isReady, graphiql = true }: AppOptions): App {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: graphiql && {
      title: "Entitlements API",
      defaultQuery: "# Set the header `Authorization: Bearer <your API key>` below, then run:\n{ features(first: 10) { totalCount edges { node { key name type } } } }\n",
      headers: JSON.stringify({ Authorization: "Bearer <your API key>" }, null, 2),
    },
    maskedErrors: { maskError: createErrorMasker(log) },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(" ")),
      info: (...args) => log.info(args.map(String).join(" ")),
      warn: (...args) => log.warn(args.map(String).join(" ")),
      // Errors reaching clients are logged once, with the request id, by the error masker.
      error: (...args) => log.debug(args.map(String).join(" ")),
    },
    context: async ({ request }) => {
      const secret = apiKeyFromHeaders(request.headers);
      const caller = secret ? await authenticateApiKey(database.prisma, secret) : null;
      return createContext({ prisma: database.prisma, caller, requestId: requestIdOf(request), log });
    },
    plugins: [useRequestId(), useHealthEndpoints(isReady), useErrorCodes()],
  });
}
