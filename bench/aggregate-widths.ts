// What keeping the usage aggregates costs the database, width by width: records/s of
// 1,000-row inserts over four connections, as a plain multi-row INSERT (Q5's floor) and as
// the server's statement shape (src/db/usage-records.ts) with the running sums at no width,
// one, two or all five. For deciding what the write path keeps in step; not part of
// `npm run bench`. Run it on a database the benchmark kept (`--keep`), then drop that:
//
//   node --import tsx bench/aggregate-widths.ts postgres://postgres@127.0.0.1:5432/entitlements_bench_…
//
// Its rows are deleted and the aggregates rebuilt afterwards, whatever happens.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { setUpSession } from "../src/db/client.ts";
import { rebuildUsageAggregates } from "../src/db/usage-records.ts";
import { seededRandom } from "./dataset.ts";

const ROWS = 1000;
const CONNECTIONS = 4;
const SECONDS = 6;
/** As many shard rows as the server spreads each bucket over (src/db/usage-records.ts). */
const SHARDS = 8;
let nextShard = 0;

const url = process.argv[2];
if (!url) throw new Error("usage: bench/aggregate-widths.ts DATABASE_URL (a database the benchmark kept)");
const pool = new pg.Pool({
  connectionString: url,
  max: CONNECTIONS,
  // Sessions as the server sets them up.
  onConnect: setUpSession,
});
const rows = async (sql: string) => (await pool.query(sql)).rows;
const customers = await rows(`SELECT id, "projectId" FROM "Customer" LIMIT 700`);
const features = await rows(`SELECT id FROM "Feature" WHERE type = 'METERED' LIMIT 50`);
const projectId = customers[0]?.projectId as string;
const random = seededRandom(7);
const batch = () =>
  Array.from({ length: ROWS }, () => ({ customerId: random.pick(customers).id as string, featureId: random.pick(features).id as string }));

/** The server's statement shape, with the sums at `widths` (none: the records alone). */
const unnestInsert = (widths: string[]) => {
  const records = `inserted AS (
    INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp", "idempotencyKey")
    SELECT r.id, $1, r.c, r.f, 1, now(), NULL FROM unnest($2::uuid[], $3::uuid[], $4::uuid[]) AS r(id, c, f)
    ON CONFLICT ("projectId", "idempotencyKey") DO NOTHING RETURNING *)`;
  const sums = `summed AS (
    INSERT INTO "UsageAggregate" ("customerId", "featureId", "width", "bucketStart", "shard", "total")
    SELECT i."customerId", i."featureId", w.width, date_trunc(lower(w.width::text), i."timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', $5::smallint, SUM(i."quantity")
    FROM inserted i CROSS JOIN unnest('{${widths.join(",")}}'::"UsageBucketWidth"[]) AS w(width)
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("customerId", "featureId", "width", "bucketStart", "shard") DO UPDATE SET "total" = "UsageAggregate"."total" + excluded."total")`;
  const sql = `WITH ${widths.length > 0 ? `${records}, ${sums}` : records} SELECT count(*) FROM inserted`;
  const parameters = (pairs: ReturnType<typeof batch>) => [
    projectId,
    pairs.map(() => randomUUID()),
    pairs.map((p) => p.customerId),
    pairs.map((p) => p.featureId),
  ];
  // Each statement to a shard of its own in turn, as the server spreads its writes.
  return () => pool.query(sql, widths.length > 0 ? [...parameters(batch()), nextShard++ % SHARDS] : parameters(batch()));
};

const values = Array.from({ length: ROWS }, (_, i) => `(gen_random_uuid(), $1, $${2 * i + 2}, $${2 * i + 3}, 1, now())`).join(", ");
const plainInsert = () =>
  pool.query(`INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp") VALUES ${values}`, [
    projectId,
    ...batch().flatMap((pair) => [pair.customerId, pair.featureId]),
  ]);

const variants: [string, () => Promise<unknown>][] = [
  ["plain multi-row INSERT (the floor)", plainInsert],
  ["unnest INSERT … RETURNING *", unnestInsert([])],
  ["+ sums at MINUTE", unnestInsert(["MINUTE"])],
  ["+ sums at MINUTE, DAY", unnestInsert(["MINUTE", "DAY"])],
  ["+ sums at all five widths (the server's)", unnestInsert(["MINUTE", "HOUR", "DAY", "MONTH", "YEAR"])],
];

const [{ since }] = await rows(`SELECT date_trunc('milliseconds', now()) AS since`);
try {
  for (let round = 1; round <= 2; round++) {
    let floor = 0;
    for (const [name, insert] of variants) {
      const deadline = performance.now() + SECONDS * 1000;
      const started = performance.now();
      let statements = 0;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (performance.now() < deadline) {
            await insert();
            statements++;
          }
        }),
      );
      const recordsPerS = Math.round((statements * ROWS) / ((performance.now() - started) / 1000));
      floor ||= recordsPerS;
      console.log(`round ${round}: ${name}: ${recordsPerS} records/s, ${(recordsPerS / floor).toFixed(2)}× the floor`);
    }
  }
} finally {
  await pool.query(`DELETE FROM "UsageRecord" WHERE "createdAt" >= $1`, [since]);
  await rebuildUsageAggregates(pool);
  await pool.query(`VACUUM ANALYZE "UsageRecord"`);
  await pool.query(`VACUUM ANALYZE "UsageAggregate"`);
  await pool.end();
}
