// The app under test over the database this run targets (TEST_DATABASE=pglite|postgres),
// driven through yoga's fetch: real HTTP semantics, no port.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { expect, inject } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { createProjectWithAdminKey } from "../../src/auth/projects.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { createApp, type App, type AppOptions } from "../../src/yoga.ts";
import { createTemporaryDatabase } from "./postgres.ts";
import type { SqlCounter } from "./sql-counter.ts";
import { createEventBus, type EventBus } from "../../src/events/bus.ts";
import { startEventJobRunner, type EventJobRunner } from "../../src/workers/event-jobs.ts";

/** The secret the test app signs customer tokens with (tests forge expired ones with it). */
export const TEST_CUSTOMER_TOKEN_SECRET = "test-customer-token-secret-0123456789abcdef";

export const databaseKind = (process.env.TEST_DATABASE ?? "pglite") as "pglite" | "postgres";

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; field?: string; [key: string]: unknown } }[];
}

export interface TestApp {
  app: App;
  database: Database;
  /** Runs a GraphQL operation with `key` (default: the first project's ADMIN key). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: { key?: string | null }): Promise<GraphQLResponse<T>>;
  /** Creates another project; returns its ADMIN key and id. */
  newProject(name?: string): Promise<{ projectId: string; key: string }>;
  adminKey: string;
  projectId: string;
  /** The app's bus: where its subscribers hear logged events. */
  events: EventBus;
  /** Runs the app's durable event jobs (a catalog edit's fan-out); `idle()` waits for the jobs under way. */
  jobs: EventJobRunner;
  /** The database's URL on PostgreSQL runs (another instance opens a pool of its own with it); undefined on PGlite. */
  postgresUrl: string | undefined;
  close(): Promise<void>;
}

/** Options the app takes from configuration in production (limits, introspection, GraphiQL). */
type ConfiguredOptions = Pick<
  AppOptions,
  "cacheSettings" | "limits" | "introspection" | "graphiql" | "batchLimit" | "rateLimiter" | "webhookAddresses"
>;

export async function createTestApp({
  sqlCounter,
  events,
  log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
  ownDatabase = false,
  ...configured
}: {
  sqlCounter?: SqlCounter;
  events?: EventBus;
  log?: Logger;
  /**
   * A PostgreSQL database of its own (fresh, migrated, dropped on close) instead of the run's
   * shared one, for work that is database-wide rather than per project: retention's purge, a
   * rebuild of the usage aggregates. (On PGlite every test app has a database of its own.)
   */
  ownDatabase?: boolean;
} & ConfiguredOptions = {}): Promise<TestApp> {
  events ??= createEventBus();
  let database: Database;
  let dropDatabase = async () => {};
  let postgresUrl: string | undefined;
  const options = { wrapAdapter: sqlCounter?.wrap };
  if (databaseKind === "postgres") {
    let url = inject("postgresUrl");
    if (ownDatabase) {
      const own = await createTemporaryDatabase("entitlements_own");
      const migrating = openDatabase({ kind: "postgres", url: own.url, poolSize: 1 });
      try {
        await applyMigrations(migrating);
      } finally {
        await migrating.close();
      }
      url = own.url;
      dropDatabase = own.drop;
    }
    database = openDatabase({ kind: "postgres", url, poolSize: 5 }, options);
    postgresUrl = url;
  } else {
    database = openDatabase({ kind: "pglite", instance: await migratedPGlite() }, options);
  }
  const app = createApp({
    database,
    log,
    isReady: async () => ({ ready: true }),
    customerTokenSecret: TEST_CUSTOMER_TOKEN_SECRET,
    events,
    // Other test apps on the run's shared PostgreSQL database may run this app's jobs: their notes do not reach this bus.
    eventPollIntervalMs: 200,
    ...configured,
  });
  // The durable jobs (catalog fan-outs, transition windows) are run as a server runs them.
  // Woken by the app's own writes only (no polls): the statements a test counts are its requests'.
  const jobs = startEventJobRunner({ prisma: database.prisma, events, log, leaseMs: 30_000, pollIntervalMs: 0 });
  const newProject = async (name = `test-${randomUUID().slice(0, 8)}`) => {
    const project = await createProjectWithAdminKey(database.prisma, name);
    return { projectId: project.projectId, key: project.secret };
  };
  const first = await newProject();
  return {
    app,
    database,
    adminKey: first.key,
    projectId: first.projectId,
    postgresUrl,
    newProject,
    async gql(query, variables, options = {}) {
      const key = options.key === undefined ? first.key : options.key;
      const response = await app.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse;
    },
    events,
    jobs,
    async close() {
      await jobs.stop();
      await database.close();
      await dropDatabase();
    },
  };
}

/** A migrated embedded database: a copy of the one the api:pglite run's global setup made. */
async function migratedPGlite(): Promise<PGlite> {
  const template = inject("pgliteTemplate");
  if (!template)
    throw new Error("no PGlite template: run the API tests through their vitest project (api:pglite), whose global setup makes it");
  return new PGlite({ loadDataDir: new Blob([readFileSync(template)]) });
}

/** The codes of a response's errors, in order. */
export const errorCodes = (response: GraphQLResponse) => (response.errors ?? []).map((error) => error.extensions?.code);

/** The response's data, after asserting it carries no errors. */
export function ok<T = any>(result: GraphQLResponse<T>): T {
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

/** The code and field of a response's first error. */
export const firstError = (result: GraphQLResponse) => ({
  code: result.errors?.[0]?.extensions?.code,
  field: result.errors?.[0]?.extensions?.field,
});

/** A Relay global ID as the API writes it, for hand-made IDs of the wrong type or another project. */
export const globalIdOf = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
