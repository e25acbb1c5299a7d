// The Prisma client over the configured database: PostgreSQL through @prisma/adapter-pg,
// or the embedded PostgreSQL (PGlite) through pglite-prisma-adapter. Same schema, same SQL.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { adapterTransactions, prismaTransactions, type RawTransactions } from "./raw-transaction.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import type { Config } from "../config.ts";
import { observeStatements } from "./statement-counter.ts";

export type DatabaseTarget =
  | { kind: "postgres"; url: string; poolSize?: number; timeoutMs?: number; queryTimeoutMs?: number }
  | { kind: "pglite"; dataDir?: string; instance?: PGlite };

export interface Database {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** The driver adapter factory behind `prisma`. */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /**
   * Runs `use` with an adapter factory for the migration engine, which expects one session:
   * its advisory lock and its statements must share a connection.
   */
  withMigrationAdapter<T>(use: (factory: SqlMigrationAwareDriverAdapterFactory) => Promise<T>): Promise<T>;
  /** Transactions of raw SQL alone, cheaper than `prisma.$transaction` (src/db/raw-transaction.ts). */
  rawTransaction: RawTransactions;
  /** SQL statements the client has sent since the database was opened. */
  statementCount(): number;
  close(): Promise<void>;
}

/** The database the configuration names (DATABASE_URL, else the embedded one in DATA_DIR). */
export function configuredTarget(config: Config): DatabaseTarget {
  return config.database.kind === "postgres"
    ? {
        kind: "postgres",
        url: config.database.url,
        poolSize: config.poolSize,
        timeoutMs: config.databaseTimeoutMs,
        queryTimeoutMs: config.databaseQueryTimeoutMs,
      }
    : { kind: "pglite", dataDir: config.database.dataDir };
}

export interface OpenOptions {
  /** Wraps the adapter factory behind the Prisma client (the tests count SQL statements this way). */
  wrapAdapter?: (factory: SqlMigrationAwareDriverAdapterFactory) => SqlMigrationAwareDriverAdapterFactory;
}

/**
 * How every connection to a PostgreSQL server is set up, before its first statement.
 * PostgreSQL compiles a statement it estimates as costly with LLVM before running it: for a
 * usage sum over hundreds of keys that was ~300 ms of compiling for ~10 ms of work (the
 * estimate counts every subplan as if it ran), and nothing this service asks runs long
 * enough to repay it. A SET on each new connection rather than a startup option:
 * connection poolers such as PgBouncer refuse those. Behind a pooler in transaction mode a
 * session's SET does not follow it from one server connection to the next: there,
 * `ALTER DATABASE … SET jit = off` (docs/performance.md).
 */
export async function setUpSession(client: pg.ClientBase): Promise<void> {
  await client.query("SET jit = off");
}

export function openDatabase(target: DatabaseTarget, { wrapAdapter = (factory) => factory }: OpenOptions = {}): Database {
  let statements = 0;
  const statementCount = () => statements;
  const clientAdapter = (factory: SqlMigrationAwareDriverAdapterFactory) => wrapAdapter(observeStatements(factory, () => statements++));
  if (target.kind === "postgres") {
    const timeoutMs = target.timeoutMs ?? 5000;
    // One pool of ours for the client and the migration engine alike, ended on close.
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      // Fail fast when the database is away instead of queueing requests forever.
      connectionTimeoutMillis: timeoutMs,
      // A database that stops answering mid-query (a network partition) fails the statement.
      query_timeout: target.queryTimeoutMs ?? 15_000,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      onConnect: setUpSession,
    });
    // An idle connection the server ends (a restart, a terminated backend, a dropped test
    // database) is an 'error' event of the pool, which then discards it and opens another on
    // the next checkout: without a listener Node would end the process for it.
    pool.on("error", () => {});
    const adapterFactory = new PrismaPg(pool);
    const prisma = new PrismaClient({ adapter: clientAdapter(adapterFactory) });
    const raw = adapterTransactions(() => clientAdapter(adapterFactory).connect());
    return {
      kind: "postgres",
      prisma,
      adapterFactory,
      rawTransaction: raw.run,
      statementCount,
      async withMigrationAdapter(use) {
        const session = new pg.Pool({ connectionString: target.url, max: 1, connectionTimeoutMillis: timeoutMs });
        try {
          return await use(new PrismaPg(session));
        } finally {
          await session.end();
        }
      },
      async close() {
        await prisma.$disconnect();
        await raw.dispose();
        await pool.end();
      },
    };
  }
  let pglite = target.instance;
  if (!pglite) {
    if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
    pglite = new PGlite(target.dataDir);
  }
  const instance = pglite;
  const adapterFactory = new PrismaPGlite(instance);
  const prisma = new PrismaClient({ adapter: clientAdapter(adapterFactory) });
  return {
    kind: "pglite",
    prisma,
    adapterFactory,
    rawTransaction: prismaTransactions(prisma),
    statementCount,
    withMigrationAdapter: (use) => use(adapterFactory),
    async close() {
      await prisma.$disconnect();
      if (!target.instance && !instance.closed) await instance.close();
    },
  };
}
