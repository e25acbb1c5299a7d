// Every environment variable the server reads, parsed and validated in one place.
import { resolve } from "node:path";
import { z } from "zod";
import type { QueryLimits } from "./plugins/query-limits.ts";
import { defaultCacheCapacity } from "./cache/capacity.ts";
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from "./limits/rate-limits.ts";
import type { WebhookSettings } from "./services/webhook-deliveries.ts";

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((value) => value === "true" || value === "1" || value === "yes");

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `5s,5m,30m,2h`: durations with a unit each (ms, s, m, h), in milliseconds. */
const durationList = z
  .string()
  .regex(/^\s*\d+(ms|s|m|h)\s*(,\s*\d+(ms|s|m|h)\s*)*$/, "must be durations such as 500ms,5s,5m,2h, separated by commas")
  .transform((value) =>
    value.split(",").map((item) => {
      const [, amount, unit] = /^(\d+)(ms|s|m|h)$/.exec(item.trim()) as unknown as [string, string, keyof typeof DURATION_UNITS_MS];
      return Number(amount) * DURATION_UNITS_MS[unit];
    }),
  );

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must start with postgres:// or postgresql://")
    .optional(),
  DATA_DIR: z.string().default("./data"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://")
    .optional(),
  BOOTSTRAP_API_KEY: z.string().min(16, "BOOTSTRAP_API_KEY must be at least 16 characters").optional(),
  CUSTOMER_TOKEN_SECRET: z.string().min(32, "CUSTOMER_TOKEN_SECRET must be at least 32 characters").optional(),
  SEED_DEMO: booleanFlag.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10000),
  USAGE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
  EVENT_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  EVENT_JOB_LEASE_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
  TRANSITION_SCAN_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  ENTITLEMENT_CACHE: booleanFlag.default(true),
  ENTITLEMENT_CACHE_TTL_MS: z.coerce.number().int().min(100).max(86_400_000).default(300_000),
  ENTITLEMENT_CACHE_MAX_CUSTOMERS: z.coerce.number().int().min(1).optional(),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).optional(),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).optional(),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).optional(),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).optional(),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).optional(),
  GRAPHQL_MAX_BODY_BYTES: z.coerce.number().int().min(1024).optional(),
  GRAPHQL_MAX_NODE_IDS: z.coerce.number().int().min(1).optional(),
  GRAPHQL_BATCH_LIMIT: z.coerce.number().int().min(0).max(100).default(10),
  GRAPHQL_INTROSPECTION: booleanFlag.optional(),
  GRAPHIQL: booleanFlag.optional(),
  RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.requests.points),
  RATE_LIMIT_USAGE: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.usage.points),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_RATE_LIMITS.requests.windowSeconds),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(50).max(300_000).default(10_000),
  WEBHOOK_RETRY_SCHEDULE: durationList.prefault("5s,5m,30m,2h,5h,10h,10h"),
  WEBHOOK_ALLOW_PRIVATE_URLS: booleanFlag.default(false),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  WEBHOOK_LEASE_MS: z.coerce.number().int().min(100).optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  NODE_ENV: z.string().default("development"),
});

export type Config = {
  port: number;
  host: string;
  database: { kind: "postgres"; url: string } | { kind: "pglite"; dataDir: string };
  /** Change events cross instances through this Redis; unset, they stay in process. */
  redisUrl: string | undefined;
  bootstrapApiKey: string | undefined;
  /** Signs customer tokens; unset, a random secret lives as long as the process. */
  customerTokenSecret: string | undefined;
  /** Load the demo catalog on an empty database (default: on the embedded database only). */
  seedDemo: boolean;
  poolSize: number;
  databaseTimeoutMs: number;
  /** The longest a statement may wait for its answer: a database that stops answering mid-query fails it. */
  databaseQueryTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** How often scheduled transitions (a trial ending, a grant expiring) are looked for. */
  transitionScanIntervalMs: number;
  /** Days the event log keeps events (and their webhook deliveries). */
  eventRetentionDays: number;
  /** How often each instance reads the event log for events no note told it of (Redis away). */
  eventPollIntervalMs: number;
  /** How long a durable event job stays claimed by an instance that stopped renewing it (one that died). */
  eventJobLeaseMs: number;
  /** Days of raw usage records kept (their sums stay in the aggregates); 0 keeps them forever. */
  usageRetentionDays: number;
  /** The per-instance entitlement cache; several instances also need REDIS_URL to stay correct. */
  cache: { enabled: boolean; ttlMs: number; maxCustomers: number };
  /** What one request may ask; unset ones keep DEFAULT_QUERY_LIMITS. */
  limits: Partial<QueryLimits>;
  /** Operations per window per credential, for everything but usage and for usage; 0 turns one off. */
  rateLimits: RateLimitSettings;
  /** Operations in one batched request; 0 refuses batches. */
  batchLimit: number;
  /** Schema introspection and field suggestions (default: on unless NODE_ENV=production). */
  introspection: boolean;
  /** GraphiQL on a browser's GET /graphql (default: on unless NODE_ENV=production). */
  graphiql: boolean;
  /** Webhook deliveries (docs/rules.md §6): every instance runs the delivery worker. */
  webhooks: WebhookSettings;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  production: boolean;
};

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const env = parsed.data;
  // A lease shorter than an attempt would let a second instance take a delivery still being attempted.
  if (env.WEBHOOK_LEASE_MS !== undefined && env.WEBHOOK_LEASE_MS <= env.WEBHOOK_TIMEOUT_MS) {
    throw new Error(`Invalid configuration:\n  WEBHOOK_LEASE_MS: must be longer than WEBHOOK_TIMEOUT_MS (${env.WEBHOOK_TIMEOUT_MS})`);
  }
  const production = env.NODE_ENV === "production";
  const limits: Partial<QueryLimits> = {
    maxDepth: env.GRAPHQL_MAX_DEPTH,
    maxAliases: env.GRAPHQL_MAX_ALIASES,
    maxDirectives: env.GRAPHQL_MAX_DIRECTIVES,
    maxTokens: env.GRAPHQL_MAX_TOKENS,
    maxCost: env.GRAPHQL_MAX_COST,
    maxBodyBytes: env.GRAPHQL_MAX_BODY_BYTES,
    maxNodeIds: env.GRAPHQL_MAX_NODE_IDS,
  };
  const database = env.DATABASE_URL
    ? ({ kind: "postgres", url: env.DATABASE_URL } as const)
    : ({ kind: "pglite", dataDir: resolve(env.DATA_DIR) } as const);
  return {
    port: env.PORT,
    host: env.HOST,
    database,
    redisUrl: env.REDIS_URL,
    bootstrapApiKey: env.BOOTSTRAP_API_KEY,
    customerTokenSecret: env.CUSTOMER_TOKEN_SECRET,
    seedDemo: env.SEED_DEMO ?? database.kind === "pglite",
    poolSize: env.DATABASE_POOL_SIZE,
    databaseTimeoutMs: env.DATABASE_TIMEOUT_MS,
    databaseQueryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    transitionScanIntervalMs: env.TRANSITION_SCAN_INTERVAL_MS,
    usageRetentionDays: env.USAGE_RETENTION_DAYS,
    eventRetentionDays: env.EVENT_RETENTION_DAYS,
    eventPollIntervalMs: env.EVENT_POLL_INTERVAL_MS,
    eventJobLeaseMs: env.EVENT_JOB_LEASE_MS,
    cache: {
      enabled: env.ENTITLEMENT_CACHE,
      ttlMs: env.ENTITLEMENT_CACHE_TTL_MS,
      maxCustomers: env.ENTITLEMENT_CACHE_MAX_CUSTOMERS ?? defaultCacheCapacity(),
    },
    limits: Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)),
    batchLimit: env.GRAPHQL_BATCH_LIMIT,
    rateLimits: {
      requests: { points: env.RATE_LIMIT_REQUESTS, windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS },
      usage: { points: env.RATE_LIMIT_USAGE, windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS },
    },
    introspection: env.GRAPHQL_INTROSPECTION ?? !production,
    graphiql: env.GRAPHIQL ?? !production,
    webhooks: {
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE,
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
      // Long enough for an attempt to end by its own timeout before another instance may take it over.
      leaseMs: env.WEBHOOK_LEASE_MS ?? env.WEBHOOK_TIMEOUT_MS + 30_000,
    },
    logLevel: env.LOG_LEVEL,
    production,
  };
}
