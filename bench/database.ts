// The bench's database, made fresh for each run: a new PostgreSQL database on DATABASE_URL's
// server, or an embedded one (PGlite) in a temporary directory; migrated, given the bench's
// project, and filled with the dataset (dataset.ts) and, for Q6, the heavy customer
// (heavy-customer.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { createProjectWithAdminKey } from "../src/auth/projects.ts";
import { openDatabase, setUpSession, type Database } from "../src/db/client.ts";
import { applyMigrations } from "../src/db/migrations.ts";
import { createTemporaryDatabase, POSTGRES_ADMIN_URL } from "../test/helpers/postgres.ts";
import { generateDataset, type DatasetIndex, type SqlRunner } from "./dataset.ts";
import { addHeavyCustomer, type HeavyCustomers } from "./heavy-customer.ts";
import { addImpactCustomers, type ImpactCustomers } from "./planning.ts";
import { log } from "./log.ts";

export type DatabaseKind = "postgres" | "pglite";

interface FilledDatabase {
  index: DatasetIndex;
  /** The bench project's admin API key. */
  key: string;
  projectId: string;
  /** Q6's customers, when it was asked for. */
  heavy?: HeavyCustomers;
  /** P1's previewed plan and its customers, when it was asked for. */
  impact?: ImpactCustomers;
}

interface FillOptions {
  /** The heavy customer's usage records (Q6); none: no heavy customer. */
  heavyRecords: number;
  /** Customers of P1's previewed plan; none: no such plan. */
  impactCustomers?: number;
}

/** SQL over a few connections at once (one, on the embedded database), for a floor run from the bench itself. */
interface SqlPool extends SqlRunner {
  close(): Promise<void>;
}

export interface BenchDatabase {
  /** What tells the server which database to use (DATABASE_URL or DATA_DIR). */
  serverEnv: Record<string, string>;
  /** The same for the floor (floor.ts). */
  floorEnv: Record<string, string>;
  fill(scale: number, options: FillOptions): Promise<FilledDatabase>;
  /** SQL straight to the database over `connections` connections (on the embedded database, only while the server is not running). */
  connect(connections: number): Promise<SqlPool>;
  /** Removes the database, unless it is to be kept: then says where it is. */
  drop(): Promise<void>;
}

async function migrateAndFill(
  database: Database,
  sql: SqlRunner,
  scale: number,
  { heavyRecords, impactCustomers = 0 }: FillOptions,
): Promise<FilledDatabase> {
  await applyMigrations(database);
  const project = await createProjectWithAdminKey(database.prisma, "bench");
  const index = await generateDataset(sql, project.projectId, scale);
  const heavy = heavyRecords > 0 ? await addHeavyCustomer(sql, project.projectId, heavyRecords) : undefined;
  const impact = impactCustomers > 0 ? await addImpactCustomers(sql, project.projectId, impactCustomers) : undefined;
  return { index, key: project.secret, projectId: project.projectId, heavy, impact };
}

export async function createBenchDatabase(kind: DatabaseKind, { keep }: { keep: boolean }): Promise<BenchDatabase> {
  if (kind === "postgres") {
    const temporary = await createTemporaryDatabase("entitlements_bench", process.env.DATABASE_URL ?? POSTGRES_ADMIN_URL);
    return {
      serverEnv: { DATABASE_URL: temporary.url },
      floorEnv: { FLOOR_DATABASE_URL: temporary.url },
      async fill(scale, options) {
        const database = openDatabase({ kind: "postgres", url: temporary.url });
        const client = new pg.Client({ connectionString: temporary.url });
        try {
          await client.connect();
          return await migrateAndFill(database, client, scale, options);
        } finally {
          await client.end();
          await database.close();
        }
      },
      async connect(connections) {
        // Sessions set up as the server's are: the storage ceiling runs the server's statement.
        const pool = new pg.Pool({
          connectionString: temporary.url,
          max: connections,
          onConnect: setUpSession,
        });
        return { query: (sql, params) => pool.query(sql, params), close: () => pool.end() };
      },
      async drop() {
        if (keep) log(`kept database ${temporary.url}`);
        else await temporary.drop();
      },
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), "entitlements-bench-"));
  return {
    serverEnv: { DATA_DIR: dataDir },
    floorEnv: { FLOOR_DATA_DIR: dataDir },
    async fill(scale, options) {
      const instance = new PGlite(dataDir);
      const database = openDatabase({ kind: "pglite", instance });
      try {
        return await migrateAndFill(database, { query: (sql, params) => instance.query(sql, params) }, scale, options);
      } finally {
        await database.close();
        await instance.close();
      }
    },
    async connect() {
      const instance = new PGlite(dataDir);
      return { query: (sql, params) => instance.query(sql, params), close: () => instance.close() };
    },
    async drop() {
      if (keep) log(`kept ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
