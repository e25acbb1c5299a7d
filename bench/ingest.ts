// Q5, ingest: usage records per second through the API, 1,000 a call (`recordUsages`, over
// BATCH_CONNECTIONS connections) and one a call (`recordUsage`, 16 connections), against a
// floor that inserts the same rows with hand-written multi-row INSERTs through the database
// driver, 1,000 rows a statement over as many connections as the batch client. The floor
// resolves customer and feature ids once, before it is timed, and then only inserts: no HTTP,
// no parsing, no validation, no idempotency, no usage aggregates, no change events — the
// least an ingest path has to do, not a competitor.
import { randomBytes } from "node:crypto";
import { rebuildUsageAggregates, usageInsertStatement } from "../src/db/usage-records.ts";
import { seededRandom, type DatasetIndex, type SqlRunner } from "./dataset.ts";
import { closedLoop, waitUntilIdle, type Endpoint } from "./load.ts";
import { log } from "./log.ts";
import { expectShape, gqlBody, post, RECORD_USAGE, RECORD_USAGES, type GraphqlResponse } from "./queries.ts";
import { sqlStatementsDuring } from "./server-metrics.ts";

/** Records per recordUsages call, and rows per floor INSERT. */
const BATCH_SIZE = 1000;
/** Concurrent recordUsages calls, and the floor's connections. */
export const BATCH_CONNECTIONS = 4;
/** Distinct batches, sent in turn. */
const BATCHES = 10;

interface IngestRecord {
  customer: string;
  featureKey: string;
  quantity: number;
}

/** What Q5 sends: batches of records for the dataset's customers, against metered features their plans give them. */
export interface IngestWorkload {
  batches: IngestRecord[][];
  /** recordUsage bodies, one record each, the batches' records in turn. */
  singleBodies: string[];
}

export function ingestWorkload(index: DatasetIndex): IngestWorkload {
  const random = seededRandom(5);
  const metered = index.customerExternalIds.flatMap((customer, rank) => {
    const keys = index.meteredKeysByCustomer[rank]!;
    return keys.length > 0 ? [{ customer, keys }] : [];
  });
  const batches = Array.from({ length: BATCHES }, () =>
    Array.from({ length: BATCH_SIZE }, () => {
      const { customer, keys } = random.pick(metered);
      return { customer, featureKey: random.pick(keys), quantity: random.int(1, 10) };
    }),
  );
  const singleBodies = batches
    .flat()
    .slice(0, 5000)
    .map(({ customer, featureKey, quantity }) => gqlBody(RECORD_USAGE, { c: customer, f: featureKey, q: quantity }));
  return { batches, singleBodies };
}

/**
 * `workers` loops, each making calls one after the other until `seconds` have passed (each
 * makes at least one); `call(n)`, the n-th call of all, says how many records it wrote.
 * Records per second until the last call ends.
 */
async function recordsPerSecond(workers: number, seconds: number, call: (n: number) => Promise<number>): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let calls = 0;
  let records = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      do {
        // Not `records += await …`: that reads `records` before the await, and the four
        // workers would overwrite each other's counts.
        const written = await call(calls++);
        records += written;
      } while (performance.now() < deadline);
    }),
  );
  return Math.round(records / ((performance.now() - started) / 1000));
}

/** Time-ordered ids like the server's (UUIDv7): new rows go to the end of the primary key's index, as the server's do. */
function timeOrderedIds(count: number): string[] {
  const time = Date.now().toString(16).padStart(12, "0");
  const random = randomBytes(count * 10).toString("hex");
  return Array.from({ length: count }, (_, index) => {
    const r = random.slice(index * 20, index * 20 + 20);
    const variant = "89ab"[Number.parseInt(r[3]!, 16) & 3];
    return `${time.slice(0, 8)}-${time.slice(8)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
  });
}

const rowsOf = async <Row>(result: Promise<unknown>) => ((await result) as { rows: Row[] }).rows;

/** The workload's batches with the customers' and features' ids, looked up once. */
async function batchesWithIds(sql: SqlRunner, projectId: string, workload: IngestWorkload) {
  const idsBy = async (query: string, key: "externalId" | "key") =>
    new Map((await rowsOf<Record<string, string>>(sql.query(query, [projectId]))).map((row) => [row[key]!, row.id!]));
  const customerIds = await idsBy(`SELECT id, "externalId" FROM "Customer" WHERE "projectId" = $1`, "externalId");
  const featureIds = await idsBy(`SELECT id, key FROM "Feature" WHERE "projectId" = $1`, "key");
  return workload.batches.map((batch) =>
    batch.map((r) => ({ customerId: customerIds.get(r.customer)!, featureId: featureIds.get(r.featureKey)!, quantity: r.quantity })),
  );
}

/**
 * Records/s of `call` (one batch of the workload a call) over BATCH_CONNECTIONS connections,
 * once to warm up, once timed; the rows it wrote are deleted afterwards, the aggregates
 * rebuilt if it wrote to them, and the tables vacuumed: the server is measured on the
 * dataset as generated.
 */
async function timedInserts(
  sql: SqlRunner,
  seconds: number,
  call: (n: number) => Promise<number>,
  { aggregates }: { aggregates: boolean },
) {
  // Every row from here on is this run's ("createdAt" is stored to the millisecond).
  const [{ since }] = (await rowsOf<{ since: Date }>(sql.query(`SELECT date_trunc('milliseconds', now()) AS since`))) as [{ since: Date }];
  await recordsPerSecond(BATCH_CONNECTIONS, seconds, call);
  const recordsPerS = await recordsPerSecond(BATCH_CONNECTIONS, seconds, call);
  await sql.query(`DELETE FROM "UsageRecord" WHERE "createdAt" >= $1`, [since]);
  if (aggregates) {
    await rebuildUsageAggregates(sql);
    // The rebuild rewrote every row: the index as it was generated, not twice its size.
    await sql.query(`REINDEX TABLE "UsageAggregate"`);
  }
  await sql.query(`VACUUM ANALYZE "UsageRecord"`);
  if (aggregates) await sql.query(`VACUUM ANALYZE "UsageAggregate"`);
  return recordsPerS;
}

/**
 * Q5's two references, over `sql` (a pool of BATCH_CONNECTIONS connections, or the embedded
 * database), before the server runs:
 * - the floor: the workload's batches inserted as plain rows, one multi-row INSERT each;
 * - the storage ceiling: the same batches through the server's own write statement
 *   (usageInsertStatement: the records and their usage aggregates), sent straight through
 *   the driver. The API cannot ingest faster than its storage does; what separates the two
 *   is the server's own work (HTTP, GraphQL, validation, change events).
 */
export async function measureIngestReferences(sql: SqlRunner, projectId: string, workload: IngestWorkload, seconds: number) {
  const batches = await batchesWithIds(sql, projectId, workload);
  log(`Q5 floor: INSERTs of ${BATCH_SIZE} rows over ${BATCH_CONNECTIONS} connections`);
  const values = Array.from({ length: BATCH_SIZE }, (_, i) => `($${4 * i + 2}, $1, $${4 * i + 3}, $${4 * i + 4}, $${4 * i + 5}, now())`);
  const insert = `INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp") VALUES ${values.join(", ")}`;
  const floorRecordsPerS = await timedInserts(
    sql,
    seconds,
    async (n) => {
      const ids = timeOrderedIds(BATCH_SIZE);
      const rows = batches[n % BATCHES]!.flatMap((row, i) => [ids[i], row.customerId, row.featureId, row.quantity]);
      await sql.query(insert, [projectId, ...rows]);
      return BATCH_SIZE;
    },
    { aggregates: false },
  );
  log(`Q5 storage: the server's usage insert statement, ${BATCH_SIZE} records a statement over ${BATCH_CONNECTIONS} connections`);
  const storageRecordsPerS = await timedInserts(
    sql,
    seconds,
    async (n) => {
      const timestamp = new Date();
      const { statement } = usageInsertStatement(
        batches[n % BATCHES]!.map((row) => ({ projectId, ...row, timestamp, idempotencyKey: null })),
      );
      await sql.query(statement.text, statement.values);
      return BATCH_SIZE;
    },
    { aggregates: true },
  );
  return { floorRecordsPerS, storageRecordsPerS };
}

/** The server's records/s through recordUsages (batches of 1,000) and recordUsage's requests/s at 16 connections. */
export async function measureIngest(api: Endpoint, workload: IngestWorkload, seconds: number) {
  const url = `${api.baseUrl}${api.path}`;
  const batchBodies = workload.batches.map((records) =>
    gqlBody(RECORD_USAGES, {
      records: records.map(({ customer, featureKey, quantity }) => ({ customer: { externalId: customer }, featureKey, quantity })),
    }),
  );
  const recorded = (response: GraphqlResponse) => {
    expectShape("Q5 batch", response, (data) => data.recordUsages?.recordedCount === BATCH_SIZE);
    return BATCH_SIZE;
  };
  let batchCalls = 0;
  const batchCall = async (n: number) => {
    batchCalls++;
    return recorded(await post(url, batchBodies[n % BATCHES]!, api.headers));
  };
  expectShape("Q5 single", await post(url, workload.singleBodies[0]!, api.headers), (data) => Boolean(data.recordUsage?.id));
  log(`Q5: recordUsages of ${BATCH_SIZE} over ${BATCH_CONNECTIONS} connections; recordUsage at 16 connections`);
  await waitUntilIdle(api.baseUrl);
  await recordsPerSecond(BATCH_CONNECTIONS, seconds, batchCall); // warm-up
  await waitUntilIdle(api.baseUrl);
  batchCalls = 0;
  const { result: batchRecordsPerS, statements: batchStatements } = await sqlStatementsDuring(api.baseUrl, () =>
    recordsPerSecond(BATCH_CONNECTIONS, seconds, batchCall),
  );
  await closedLoop(api, workload.singleBodies, { connections: 16, seconds }); // warm-up
  const { result: single, statements } = await sqlStatementsDuring(api.baseUrl, () =>
    closedLoop(api, workload.singleBodies, { connections: 16, seconds }),
  );
  if (single.failures > 0) throw new Error(`Q5: ${single.failures} failed recordUsage requests`);
  const perRequest = (count: number, requests: number) => Math.round((count / requests) * 100) / 100;
  return {
    batchRecordsPerS,
    batchSqlPerCall: perRequest(batchStatements, batchCalls),
    singleRps16: single.rps,
    singleP99ms: single.p99,
    singleSqlPerRequest: perRequest(statements, single.requests),
  };
}
