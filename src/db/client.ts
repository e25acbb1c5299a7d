// The Prisma client over the configured database: PostgreSQL through @prisma/adapter-pg,
// or the embedded PostgreSQL (PGlite) through pglite-prisma-adapter. Same schema, same SQL.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";
import type { Config } from "../config.ts";

export type DatabaseTarget =
  | { kind: "postgres"; url: string; poolSize?: number; timeoutMs?: number }
  | { kind: "pglite"; dataDir?: string; instance?: PGlite };

export interface Database {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** The driver adapter factory, shared with the migration engine. */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

/** The database the configuration names (DATABASE_URL, else the embedded one in DATA_DIR). */
export function configuredTarget(config: Config): DatabaseTarget {
  return config.database.kind === "postgres"
    ? { kind: "postgres", url: config.database.url, poolSize: config.poolSize, timeoutMs: config.databaseTimeoutMs }
    : { kind: "pglite", dataDir: config.database.dataDir };
}

export function openDatabase(target: DatabaseTarget): Database {
  if (target.kind === "postgres") {
    const timeoutMs = target.timeoutMs ?? 5000;
    const adapterFactory = new PrismaPg({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      // Fail fast when the database is away instead of queueing requests forever.
      connectionTimeoutMillis: timeoutMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: timeoutMs * 6,
    });
    const prisma = new PrismaClient({ adapter: adapterFactory });
    return { kind: "postgres", prisma, adapterFactory, close: () => prisma.$disconnect() };
  }
  let pglite = target.instance;
  if (!pglite) {
    if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
    pglite = new PGlite(target.dataDir);
  }
  const instance = pglite;
  const adapterFactory = new PrismaPGlite(instance);
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    kind: "pglite",
    prisma,
    adapterFactory,
    async close() {
      await prisma.$disconnect();
      if (!target.instance && !instance.closed) await instance.close();
    },
  };
}
