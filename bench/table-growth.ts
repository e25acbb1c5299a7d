// How the usage tables grow per million records, measured on PostgreSQL (docs/scaling.md):
// a fresh database, 1,000,000 usage records bulk-inserted for each shape of load, the
// aggregates rebuilt, then the sizes of every table and index as PostgreSQL reports them.
//   node --import tsx bench/table-growth.ts            (DATABASE_URL picks the server)
// Shapes: "spread" (10,000 customers, 200 features, each customer using 10 of them, over
// 90 days) and "heavy" (one customer, 5 features, over 30 days). Every record carries a
// 36-character idempotency key, as records sent through the API with keys do.
import pg from "pg";
import { createProjectWithAdminKey } from "../src/auth/projects.ts";
import { openDatabase } from "../src/db/client.ts";
import { applyMigrations } from "../src/db/migrations.ts";
import { rebuildUsageAggregates } from "../src/db/usage-records.ts";
import { createTemporaryDatabase, POSTGRES_ADMIN_URL } from "../test/helpers/postgres.ts";

const RECORDS = Number(process.env.RECORDS ?? 1_000_000);
const DAY_MS = 86_400_000;

interface Shape {
  name: string;
  customers: number;
  features: number;
  /** Features each customer records for (customer c uses features c, c+1, … modulo `features`). */
  featuresPerCustomer: number;
  days: number;
}

const SHAPES: Shape[] = [
  { name: "spread", customers: 10_000, features: 200, featuresPerCustomer: 10, days: 90 },
  { name: "heavy", customers: 1, features: 5, featuresPerCustomer: 5, days: 30 },
];

const SIZES = `
  SELECT c.relname AS name, pg_relation_size(c.oid)::bigint AS bytes, c.relkind AS kind, t.relname AS "table"
  FROM pg_class c
  LEFT JOIN pg_index i ON i.indexrelid = c.oid
  LEFT JOIN pg_class t ON t.oid = COALESCE(i.indrelid, c.oid)
  WHERE t.relname IN ('UsageRecord', 'UsageAggregate') AND c.relkind IN ('r', 'i')
  ORDER BY t.relname, c.relkind DESC, c.relname`;

const TOTALS = `
  SELECT relname AS "table", pg_total_relation_size(oid)::bigint AS total, pg_relation_size(oid)::bigint AS heap,
         pg_indexes_size(oid)::bigint AS indexes, (SELECT count(*) FROM "UsageAggregate")::bigint AS aggregate_rows
  FROM pg_class WHERE relname IN ('UsageRecord', 'UsageAggregate') ORDER BY relname`;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function measure(shape: Shape) {
  const temporary = await createTemporaryDatabase("entitlements_growth", process.env.DATABASE_URL ?? POSTGRES_ADMIN_URL);
  const database = openDatabase({ kind: "postgres", url: temporary.url });
  const sql = new pg.Client({ connectionString: temporary.url });
  try {
    await applyMigrations(database);
    const { projectId } = await createProjectWithAdminKey(database.prisma, "growth");
    await sql.connect();
    await sql.query(
      `INSERT INTO "Customer" ("id", "projectId", "externalId", "updatedAt")
       SELECT gen_random_uuid(), $1, 'customer-' || g, now() FROM generate_series(0, $2::int - 1) g`,
      [projectId, shape.customers],
    );
    await sql.query(
      `INSERT INTO "Feature" ("id", "projectId", "key", "name", "type", "updatedAt")
       SELECT gen_random_uuid(), $1, 'feature-' || g, 'Feature ' || g, 'METERED', now() FROM generate_series(0, $2::int - 1) g`,
      [projectId, shape.features],
    );
    const started = performance.now();
    // Customers numbered by creation order, features likewise; each record picks a random
    // customer, one of its features and an instant in the window (to the millisecond).
    await sql.query(
      `WITH c AS (SELECT id, row_number() OVER (ORDER BY "externalId") - 1 AS n FROM "Customer"),
            f AS (SELECT id, row_number() OVER (ORDER BY "key") - 1 AS n FROM "Feature"),
            r AS (SELECT floor(random() * $2)::int AS customer, floor(random() * $3)::int AS offset_, random() AS at
                  FROM generate_series(1, $4::int))
       INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp", "idempotencyKey")
       SELECT gen_random_uuid(), $1, c.id, f.id, 1 + floor(random() * 10),
              now() - (r.at * $5::float8) * interval '1 millisecond', gen_random_uuid()::text
       FROM r JOIN c ON c.n = r.customer JOIN f ON f.n = (r.customer + r.offset_) % $6`,
      [projectId, shape.customers, shape.featuresPerCustomer, RECORDS, shape.days * DAY_MS, shape.features],
    );
    const inserted = performance.now();
    await rebuildUsageAggregates(sql);
    const rebuilt = performance.now();
    await sql.query(`VACUUM ANALYZE "UsageRecord"`);
    await sql.query(`VACUUM ANALYZE "UsageAggregate"`);
    const totals = (await sql.query(TOTALS)).rows;
    const sizes = (await sql.query(SIZES)).rows;
    console.log(
      `\n${shape.name}: ${RECORDS.toLocaleString("en")} records, ${shape.customers.toLocaleString("en")} customers, ` +
        `${shape.features} features (${shape.featuresPerCustomer} per customer), ${shape.days} days` +
        ` — insert ${((inserted - started) / 1000).toFixed(1)} s, rebuild ${((rebuilt - inserted) / 1000).toFixed(1)} s`,
    );
    for (const row of totals) {
      console.log(`  ${row.table}: total ${mb(Number(row.total))} = heap ${mb(Number(row.heap))} + indexes ${mb(Number(row.indexes))}`);
    }
    console.log(`  UsageAggregate rows: ${Number(totals[0].aggregate_rows).toLocaleString("en")}`);
    for (const row of sizes) console.log(`    ${row.kind === "r" ? "heap " : "index"} ${row.name}: ${mb(Number(row.bytes))}`);
  } finally {
    await sql.end().catch(() => undefined);
    await database.close();
    await temporary.drop();
  }
}

for (const shape of SHAPES) await measure(shape);
