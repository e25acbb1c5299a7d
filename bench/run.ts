// npm run bench [-- --quick] [--scale N] [--db postgres|pglite] [--keep] [--cpu-prof DIR] [--only q1,q3,…]
//                [--seconds N] [--subscribers N] [--heavy-records N] [--impact-customers N] [--heap-mb N] [--compare GIT_REVISION [--rounds N]]
// Generates the dataset into a fresh database (database.ts), measures the floors (floor.ts,
// and ingest.ts's INSERTs) and then the server (`npm start`'s entry) over HTTP, both as child
// processes on the same data (targets.ts, load.ts, measures.ts, ingest.ts, heavy-customer.ts),
// and prints a table and, last, `BENCH {json}`.
// With --compare, instead: that revision's server against the working tree's (compare.ts).
import { parseArgs } from "node:util";
import { compareWithRevision } from "./compare.ts";
import { createBenchDatabase, type DatabaseKind } from "./database.ts";
import { subscriberFanOut, type Endpoint, type LoadResult } from "./load.ts";
import { measureHeavyCustomer } from "./heavy-customer.ts";
import { BATCH_CONNECTIONS, ingestWorkload, measureIngest, measureIngestReferences } from "./ingest.ts";
import { log } from "./log.ts";
import { consumeUnderContention, measureFloor, profileQuery, q2StatementsByPageSize } from "./measures.ts";
import { measurePlanning } from "./planning.ts";
import { createCustomer, expectShape, gqlBody, post, Q2 } from "./queries.ts";
import { cacheLookups, heapUsedMegabytes, residentMegabytes } from "./server-metrics.ts";
import { ratio } from "./statistics.ts";
import { buildServer, startFloor, startServer } from "./targets.ts";
import { webhookDeliveryLatency } from "./webhook-latency.ts";
import { workloadFor } from "./workload.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    scale: { type: "string" },
    db: { type: "string" },
    keep: { type: "boolean", default: false },
    /** Writes a V8 CPU profile of the server into this directory (open it in Chrome's DevTools). */
    "cpu-prof": { type: "string" },
    /** Measures only these (q1, q2, q3, q4, s1, s2, q5, q6, p1), e.g. to profile one; the BENCH line then lacks the others. */
    only: { type: "string" },
    /** Length of each load run (default 3 with --quick, else 10) and S1's subscribers (default 1000): the smoke test shrinks them. */
    seconds: { type: "string" },
    /** The server's JavaScript heap limit (node --max-old-space-size); default: npm start's (HEAP_LIMIT_MB, else 256). */
    "heap-mb": { type: "string" },
    subscribers: { type: "string" },
    /** Q6's heavy customer's usage records (default 1,000,000 with --quick, else 2,000,000): the smoke test shrinks them. */
    "heavy-records": { type: "string" },
    /** Customers of P1's previewed plan (default 10,000). */
    "impact-customers": { type: "string" },
    /** Instead of the measures: this revision's server against the working tree's, Q1, Q2, Q3, S1, Q4 and Q5 in alternate runs on the same data. */
    compare: { type: "string" },
    /** Rounds of --compare (each runs both servers once); default 4. */
    rounds: { type: "string" },
  },
});
const quick = args.quick ?? false;
const scale = Number(args.scale ?? (quick ? 0.1 : 1));
const dbKind = (args.db ?? (process.env.DATABASE_URL ? "postgres" : "pglite")) as DatabaseKind;
const seconds = Number(args.seconds ?? (quick ? 3 : 10));
const subscribers = Number(args.subscribers ?? 1000);
const heavyRecords = Number(args["heavy-records"] ?? (quick ? 1_000_000 : 2_000_000));
/** Changes S1 sends (and times) after its warm-up. */
const s1Changes = quick ? 10 : 30;
/** Changes S2 makes, each timed to its webhook (the smoke test shrinks them with --seconds 1). */
const s2Events = seconds < 2 ? 20 : 1000;
const serverOptions = { heapMb: Number(args["heap-mb"] ?? process.env.HEAP_LIMIT_MB ?? 256), cpuProfDir: args["cpu-prof"] };
const MEASURES = ["q1", "q2", "q3", "q4", "s1", "s2", "q5", "q6", "p1"] as const;
const only = new Set(args.only?.split(",").map((name) => name.trim().toLowerCase()) ?? MEASURES);
for (const name of only)
  if (!(MEASURES as readonly string[]).includes(name))
    throw new Error(`--only: unknown measure ${name} (choose from ${MEASURES.join(", ")})`);
const measures = (name: (typeof MEASURES)[number]) => only.has(name);
const Q3_RATE = 1000;
/** The customers P1's previewed catalog edit reaches. */
const IMPACT_CUSTOMERS = Number(args["impact-customers"] ?? 10_000);

async function main() {
  const started = Date.now();
  log(`${dbKind}, scale ${scale}${quick ? ", quick" : ""}: generating the dataset`);
  const database = await createBenchDatabase(dbKind, { keep: args.keep ?? false });
  let stopServer: (() => Promise<unknown>) | undefined;
  try {
    // The heavy customer takes a while to write: only for Q6 (which --compare does not run).
    const { index, key, projectId, heavy, impact } = await database.fill(scale, {
      heavyRecords: (measures("q6") || measures("p1")) && !args.compare ? heavyRecords : 0,
      impactCustomers: measures("p1") && !args.compare ? IMPACT_CUSTOMERS : 0,
    });
    log(`dataset ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(index.sizes)}`);
    if (args.keep) log(`API key of the kept project: ${key}`);
    const auth = { authorization: `Bearer ${key}` };
    const workload = workloadFor(index);
    const { q1Bodies, q3Bodies, meteredFeature } = workload;
    const fanOut = (serverUrl: string, customer: string) =>
      subscriberFanOut(serverUrl, { key, customer, featureKey: meteredFeature, subscribers, changes: s1Changes });

    if (args.compare) {
      const compare = await compareWithRevision({
        revision: args.compare,
        rounds: Number(args.rounds ?? 4),
        seconds,
        databaseEnv: database.serverEnv,
        server: serverOptions,
        workload,
        auth,
        delivery: fanOut,
        writes: { meteredFeature, ingest: ingestWorkload(index) },
        includes: measures,
      });
      process.stdout.write(`BENCH ${JSON.stringify({ db: dbKind, scale, quick, sizes: index.sizes, compare })}\n`);
      return;
    }

    // The floor, alone on the machine.
    let floor: { q1: LoadResult; q3: LoadResult; q3AtRate: LoadResult } | undefined;
    if (measures("q1") || measures("q3")) {
      const floorTarget = await startFloor(database.floorEnv, projectId);
      try {
        floor = await measureFloor(floorTarget.url, workload, { q3Rate: Q3_RATE, seconds });
      } finally {
        await floorTarget.stop();
      }
    }
    const ingest = ingestWorkload(index);
    let ingestReferences = { floorRecordsPerS: 0, storageRecordsPerS: 0 };
    if (measures("q5")) {
      const sql = await database.connect(BATCH_CONNECTIONS);
      try {
        ingestReferences = await measureIngestReferences(sql, projectId, ingest, seconds);
      } finally {
        await sql.close();
      }
    }

    // The server, on the same data.
    log("building the server (npm run build)");
    buildServer();
    const server = await startServer(database.serverEnv, serverOptions);
    // A measure that fails must not leave the server running.
    stopServer = server.stop;
    const api: Endpoint = { baseUrl: server.url, path: "/graphql", headers: auth };
    const graphqlUrl = `${server.url}/graphql`;
    const rssStart = await residentMegabytes(server.url);
    const heapStart = await heapUsedMegabytes(server.url);
    /** RSS after each measure: growth shows here, a plateau too. */
    const rssAfter: Record<string, number> = {};
    for (const body of q1Bodies.slice(0, 20))
      expectShape(
        "Q1",
        await post(graphqlUrl, body, auth),
        (data) => Array.isArray(data.customer?.entitlements) && data.customer.entitlements.length > 0,
      );
    for (const body of q3Bodies.slice(0, 20))
      expectShape("Q3", await post(graphqlUrl, body, auth), (data) => typeof data.checkEntitlement?.allowed === "boolean");

    const rows: (string | number)[][] = [];
    const report: Record<string, unknown> = { db: dbKind, scale, quick, sizes: index.sizes };
    const notes: string[] = [];

    if (measures("q1")) {
      const q1 = await profileQuery("Q1", api, q1Bodies, { rate: 200, seconds });
      report.q1 = { ...q1, floorRps16: floor!.q1.rps, ratio: ratio(q1.rps16, floor!.q1.rps), floorP99ms: floor!.q1.p99 };
      rssAfter.q1 = await residentMegabytes(server.url);
      rows.push([
        "Q1 entitlements",
        q1.rps1,
        q1.rps16,
        q1.rps64,
        floor!.q1.rps,
        ratio(q1.rps16, floor!.q1.rps),
        `${q1.p50ms}/${q1.p99ms} @${q1.rate}`,
        q1.sqlPerRequest,
      ]);
    }
    if (measures("q2")) {
      // SQL statements for pages of 1, 10 and 100, then load on pages of 100.
      const q2Sql = await q2StatementsByPageSize(api);
      const q2 = await profileQuery("Q2", api, [gqlBody(Q2, { n: 100 })], { rate: 5, seconds });
      report.q2 = { rps16: q2.rps16, p99ms: q2.p99ms, sqlPerRequest: q2Sql };
      rssAfter.q2 = await residentMegabytes(server.url);
      rows.push([
        "Q2 page of 100",
        q2.rps1,
        q2.rps16,
        q2.rps64,
        "",
        "",
        `${q2.p50ms}/${q2.p99ms} @${q2.rate}`,
        `${q2Sql[1]}/${q2Sql[10]}/${q2Sql[100]}`,
      ]);
    }
    if (measures("q3")) {
      const q3 = await profileQuery("Q3", api, q3Bodies, { rate: Q3_RATE, seconds });
      report.q3 = {
        ...q3,
        floorRps16: floor!.q3.rps,
        ratio: ratio(q3.rps16, floor!.q3.rps),
        floorP99ms: floor!.q3.p99,
        floorP99msAtRate: floor!.q3AtRate.p99,
      };
      rssAfter.q3 = await residentMegabytes(server.url);
      rows.push([
        "Q3 check",
        q3.rps1,
        q3.rps16,
        q3.rps64,
        floor!.q3.rps,
        ratio(q3.rps16, floor!.q3.rps),
        `${q3.p50ms}/${q3.p99ms} @${q3.rate}`,
        q3.sqlPerRequest,
      ]);
      rows.push(["Q3 on the floor", "", floor!.q3.rps, "", "", "", `${floor!.q3AtRate.p50}/${floor!.q3AtRate.p99} @${Q3_RATE}`, 1]);
    }
    if (measures("q4")) {
      const { load: q4, overLimit } = await consumeUnderContention(api, meteredFeature, seconds);
      report.q4 = { rps16: q4.rps, p99ms: q4.p99, overLimit, failures: q4.failures };
      rssAfter.q4 = await residentMegabytes(server.url);
      rows.push(["Q4 consume", "", q4.rps, "", "", "", `-/${q4.p99}`, ""]);
      // The same contention with credits to draw on: past the limit, each allowed consume draws.
      const { load: q4c, overLimit: overCredits } = await consumeUnderContention(api, meteredFeature, seconds, "q4-credits", 1e9);
      report.q4credits = { rps16: q4c.rps, p99ms: q4c.p99, overLimit: overCredits, failures: q4c.failures };
      rows.push(["Q4 consume with credits", "", q4c.rps, "", "", "", `-/${q4c.p99}`, ""]);
      notes.push(`Q4 over the limit: ${overLimit}; with credits, over the limit and the credits: ${overCredits}.`);
    }
    if (measures("s1")) {
      log(`S1: ${subscribers} graphql-ws subscribers`);
      await createCustomer(graphqlUrl, auth, "s1", "S1 setup");
      const s1 = await fanOut(server.url, "s1");
      report.s1 = { subscribers, ...s1, p99ms: s1.p99 };
      rssAfter.s1 = await residentMegabytes(server.url);
      notes.push(`S1: ${s1.deliveries} deliveries to ${subscribers} subscribers, p50 ${s1.p50} ms, p99 ${s1.p99} ms.`);
    }
    if (measures("s2")) {
      const s2 = await webhookDeliveryLatency(api, { featureKey: meteredFeature, events: s2Events });
      report.s2 = s2;
      rssAfter.s2 = await residentMegabytes(server.url);
      notes.push(
        `S2: ${s2.delivered} of ${s2.events} changes reached a webhook receiver (${s2.deliveries} deliveries), commit to delivery p50 ${s2.p50ms} ms, p99 ${s2.p99ms} ms.`,
      );
    }
    if (measures("q5")) {
      const q5 = await measureIngest(api, ingest, seconds);
      const { floorRecordsPerS, storageRecordsPerS } = ingestReferences;
      const q5Report = {
        ...q5,
        floorRecordsPerS,
        ratio: ratio(q5.batchRecordsPerS, floorRecordsPerS),
        storageRecordsPerS,
        storageRatio: ratio(storageRecordsPerS, floorRecordsPerS),
        batchConnections: BATCH_CONNECTIONS,
      };
      report.q5 = q5Report;
      rssAfter.q5 = await residentMegabytes(server.url);
      rows.push(["Q5 recordUsage", "", q5.singleRps16, "", "", "", `-/${q5.singleP99ms}`, q5.singleSqlPerRequest]);
      notes.push(
        `Q5: recordUsages of 1,000 over ${BATCH_CONNECTIONS} connections ${q5.batchRecordsPerS} records/s (${q5.batchSqlPerCall} SQL statements a call), the INSERT floor ${floorRecordsPerS}: ${q5Report.ratio}×; the server's insert statement alone (records and aggregates, no server) ${storageRecordsPerS}: ${q5Report.storageRatio}× the floor.`,
      );
    }
    if (measures("q6")) {
      // Three times the run length: p99 of each kind wants a hundred samples or more.
      const q6 = await measureHeavyCustomer(api, heavy!, 3 * seconds);
      report.q6 = q6;
      rssAfter.q6 = await residentMegabytes(server.url);
      const pair = (name: string, of: (side: typeof q6.heavy) => { p50: number; p99: number }) =>
        `${name} p50/p99 ${of(q6.heavy).p50}/${of(q6.heavy).p99} ms against ${of(q6.light).p50}/${of(q6.light).p99} ms`;
      notes.push(
        `Q6 (heavy customer, ${q6.records} records, against a light one): ${pair("check", (side) => side.check)} (${q6.checkP50Ratio}×/${q6.checkP99Ratio}×); ${pair("recordUsage", (side) => side.record)} (${q6.recordP50Ratio}×/${q6.recordP99Ratio}×); background writes ${q6.background.rps}/s of ${q6.background.targetRps}, p50/p99 ${q6.background.p50}/${q6.background.p99} ms; ${q6.failures} failures${q6.saturated ? "; SATURATED: the server did not keep up with the writing, so these latencies are mostly queueing and the ratios say little" : ""}.`,
      );
    }
    if (measures("p1") && impact) {
      const p1 = await measurePlanning(api, heavy && { customer: heavy.heavy, featureKey: heavy.featureKey }, impact);
      report.p1 = p1;
      notes.push(
        `P1 (planning): usageSeries of 1,000 DAY windows on the heavy customer (${heavy?.records ?? 0} records) ${p1.series1000Ms} ms, of 1 window ${p1.series1Ms} ms (medians of 20); impact preview of removing a feature from a plan of ${p1.impactCustomers} customers, counts and a first page in one request, ${p1.impactPreviewMs} ms (median of 3).`,
      );
    }
    const rssEnd = await residentMegabytes(server.url);
    const heapEnd = await heapUsedMegabytes(server.url);
    const cache = await cacheLookups(server.url);
    stopServer = undefined;
    await server.stop();
    report.rssMb = { start: rssStart, end: rssEnd, after: rssAfter };
    report.heapUsedMb = { start: heapStart, end: heapEnd };
    report.cacheLookups = cache;
    report.seconds = Math.round((Date.now() - started) / 1000);
    notes.push(
      `RSS ${rssStart} → ${Object.entries(rssAfter)
        .map(([name, mb]) => `${mb} (after ${name.toUpperCase()})`)
        .join(" → ")} MB (JavaScript heap in use ${heapStart} → ${heapEnd} MB).`,
    );

    process.stdout.write(
      `\n| query | rps@1 | rps@16 | rps@64 | floor rps@16 | ratio | p50/p99 ms @ req/s | SQL/request |\n|---|---|---|---|---|---|---|---|\n`,
    );
    for (const row of rows) process.stdout.write(`| ${row.join(" | ")} |\n`);
    const hitRates = Object.entries(cache).map(([kind, { hit = 0, miss = 0 }]) => `${kind} ${Math.round((100 * hit) / (hit + miss))}%`);
    notes.push(`Cache hits: ${hitRates.join(", ")}.`);
    process.stdout.write(`\n${notes.join(" ")}\n\n`);
    process.stdout.write(`BENCH ${JSON.stringify(report)}\n`);
  } finally {
    await stopServer?.();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
