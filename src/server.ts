// Starts the service: database (migrated on start), start-up key, demo data, HTTP server,
// graceful shutdown. `npm start` runs this file.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { loadConfig, type Config } from "./config.ts";
import { configuredTarget, openDatabase, type Database, type OpenOptions } from "./db/client.ts";
import { applyMigrations } from "./db/migrations.ts";
import { databaseReadiness } from "./db/readiness.ts";
import { ensureStartupKey } from "./auth/projects.ts";
import { seedDemo } from "./seed/demo.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createApp } from "./yoga.ts";
import { attachWebSocket } from "./websocket.ts";
import { createEventBus } from "./events/bus.ts";
import { connectRedisRelay } from "./events/redis-relay.ts";
import { startTransitionScheduler } from "./workers/transition-scan.ts";
import { startRetention } from "./workers/retention.ts";
import { startEventJobRunner } from "./workers/event-jobs.ts";
import { startWebhookDelivery } from "./workers/webhook-delivery.ts";
import { pendingDeliveries } from "./db/webhook-deliveries.ts";
import { createMetrics, createWebhookMetrics } from "./metrics.ts";
import { connectRateStore, createRateLimiter } from "./limits/rate-limits.ts";

export interface RunningServer {
  url: string;
  database: Database;
  server: Server;
  /** Looks for due webhook deliveries now (call it once events are logged) rather than at the next poll. */
  wakeWebhookDelivery(): void;
  /** Stops accepting, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/** `databaseOptions`: a test counts the server's SQL statements through `wrapAdapter`. */
export async function startServer(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  databaseOptions: OpenOptions = {},
): Promise<RunningServer> {
  const database = openDatabase(configuredTarget(config), databaseOptions);
  const { applied } = await applyMigrations(database);
  if (applied.length > 0) log.info({ applied }, "applied database migrations");

  const startupKey = await ensureStartupKey(database.prisma, config.bootstrapApiKey);
  if (startupKey.kind === "first-start") {
    // Printed once, on the first start of an empty database: the key is stored hashed only.
    process.stdout.write(`\nCreated the default project and its ADMIN API key (shown only now; keep it):\n\n  ${startupKey.secret}\n\n`);
  }
  if (config.seedDemo && startupKey.kind !== "none" && (await seedDemo(database.prisma, startupKey.projectId))) {
    log.info("loaded the demo catalog and customers (SEED_DEMO=false to skip)");
  }

  let shuttingDown = false;
  const isReady = async () => {
    if (shuttingDown) return { ready: false, reason: "shutting down" };
    return databaseReadiness(database);
  };
  if (!config.customerTokenSecret) {
    log.warn("CUSTOMER_TOKEN_SECRET is not set: customer tokens are signed with a random secret and end with this process");
  }
  const relay = config.redisUrl ? connectRedisRelay({ url: config.redisUrl, log }) : undefined;
  // Wait a moment for the relay's subscription, but start without Redis: it reconnects.
  if (relay) await Promise.race([relay.ready, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  const events = createEventBus({ relay });
  // Rate budgets hold across instances through Redis; while it is away, each instance counts alone.
  const rateStore = config.redisUrl ? connectRateStore(config.redisUrl) : undefined;
  // One registry for the app's /metrics and the workers' counters.
  const metrics = createMetrics({ statementCount: database.statementCount });
  const app = createApp({
    metrics,
    webhookAddresses: { allowPrivate: config.webhooks.allowPrivateUrls },
    database,
    log,
    isReady,
    customerTokenSecret: config.customerTokenSecret,
    events,
    cacheSettings: config.cache,
    graphiql: config.graphiql,
    introspection: config.introspection,
    limits: config.limits,
    batchLimit: config.batchLimit,
    rateLimiter: createRateLimiter(config.rateLimits, rateStore),
    eventPollIntervalMs: config.eventPollIntervalMs,
  });
  const server = createServer(app);
  const closeWebSocket = attachWebSocket(server, app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    // Not listening (the port taken, say): let go of what was opened, then report it.
    await closeWebSocket();
    await events.close();
    rateStore?.disconnect();
    await database.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port}`;
  log.info({ url: `${url}/graphql`, database: database.kind, events: relay ? "redis" : "in-process" }, "entitlements API listening");
  const scheduler = startTransitionScheduler({ prisma: database.prisma, events, log, intervalMs: config.transitionScanIntervalMs });
  const jobs = startEventJobRunner({
    prisma: database.prisma,
    events,
    log,
    leaseMs: config.eventJobLeaseMs,
    pollIntervalMs: config.eventPollIntervalMs,
  });
  const retention = startRetention({
    prisma: database.prisma,
    log,
    usageRetentionDays: config.usageRetentionDays,
    eventRetentionDays: config.eventRetentionDays,
  });
  const webhookDelivery = startWebhookDelivery({
    prisma: database.prisma,
    log,
    settings: config.webhooks,
    metrics: createWebhookMetrics(metrics.registry, () => pendingDeliveries(database.prisma)),
  });
  // Events logged here or on another instance (a Redis note) may have queued deliveries: attempt them now.
  events.onLogged(() => webhookDelivery.wake());

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await closeWebSocket();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      await scheduler.stop();
      await jobs.stop();
      await retention.stop();
      await webhookDelivery.stop();
      await events.close();
      rateStore?.disconnect();
      await database.close();
      log.info("stopped");
    })());
  return { url, database, server, close, wakeWebhookDelivery: webhookDelivery.wake };
}

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const running = await startServer(config, log);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      log.info({ signal }, "shutting down");
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
