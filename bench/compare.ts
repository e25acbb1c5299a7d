// --compare: another revision's server against the working tree's, in alternating rounds on
// the same data, so that a change is measured against its base in one run rather than
// across days.
import { projectRoot } from "../test/helpers/process.ts";
import { closedLoop, warmUp, type Endpoint } from "./load.ts";
import { measureIngest, type IngestWorkload } from "./ingest.ts";
import { log } from "./log.ts";
import { consumeUnderContention } from "./measures.ts";
import { createCustomer, expectShape, gqlBody, post, Q2 } from "./queries.ts";
import { median, ratio } from "./statistics.ts";
import { buildServer, checkOutRevision, startServer, type ServerRunOptions } from "./targets.ts";
import type { Workload } from "./workload.ts";

export interface CompareOptions {
  revision: string;
  rounds: number;
  seconds: number;
  /** The database the servers run on (the bench database's server environment). */
  databaseEnv: Record<string, string>;
  server: ServerRunOptions;
  workload: Workload;
  auth: Record<string, string>;
  /** S1's delivery latency on a server, for a customer no other run has watched. */
  delivery: (serverUrl: string, customer: string) => Promise<{ p50: number; p99: number }>;
  /** Q4's consumed feature and Q5's records. */
  writes: { meteredFeature: string; ingest: IngestWorkload };
  /** Whether to run the phase holding `measure` (--only: q1, q2 and q3 run together, as do q4 and q5). */
  includes: (measure: "q1" | "q2" | "q3" | "s1" | "q4" | "q5") => boolean;
}

const MEASURES = [
  ["q3rps1", "Q3 rps@1"],
  ["q3rps16", "Q3 rps@16"],
  ["q1rps16", "Q1 rps@16"],
  ["q2rps16", "Q2 rps@16"],
  ["s1p50", "S1 p50 ms (lower is better)"],
  ["s1p99", "S1 p99 ms (lower is better)"],
  ["q4rps16", "Q4 consume rps@16"],
  ["q5batch", "Q5 recordUsages records/s"],
  ["q5single", "Q5 recordUsage rps@16"],
] as const;
type Measure = (typeof MEASURES)[number][0];

/**
 * Requests/s of Q3 (1 and 16 connections), Q1 and Q2 (16), S1's delivery latency, and the writes
 * (Q4's consumes, Q5's records in batches and one at a time), for
 * `revision`'s server and the working tree's; prints the medians and their ratios, and
 * returns them for the BENCH line.
 */
export async function compareWithRevision({
  revision,
  rounds,
  seconds,
  databaseEnv,
  server: serverOptions,
  workload: { q1Bodies, q3Bodies },
  auth,
  delivery,
  writes,
  includes,
}: CompareOptions) {
  log(`compare: building ${revision} in a worktree, and the working tree`);
  const base = checkOutRevision(revision);
  try {
    buildServer();
    const variants = [
      { name: revision, dir: base.dir },
      { name: "working tree", dir: projectRoot },
    ];
    const runs = variants.map(
      () => Object.fromEntries(MEASURES.map(([measure]) => [measure, [] as number[]])) as Record<Measure, number[]>,
    );
    /** Each round starts each variant's server in turn (alternating who goes first) and runs `measure` on it. */
    const inRounds = async (phase: string, measure: (serverUrl: string, round: number, variant: number) => Promise<string>) => {
      if (!phase.split(", ").some((name) => includes(name.toLowerCase() as Parameters<typeof includes>[0]))) return;
      for (let round = 0; round < rounds; round++) {
        for (const variant of round % 2 === 0 ? [0, 1] : [1, 0]) {
          const server = await startServer(databaseEnv, serverOptions, variants[variant]!.dir);
          try {
            log(
              `compare: ${phase}, round ${round + 1}/${rounds}, ${variants[variant]!.name}: ${await measure(server.url, round, variant)}`,
            );
          } finally {
            await server.stop();
          }
        }
      }
    };
    // Requests first, then deliveries: a thousand WebSocket clients closing would weigh on the next requests' generator.
    const q2Bodies = [gqlBody(Q2, { n: 100 })];
    await inRounds("Q3, Q1, Q2", async (serverUrl, _round, variant) => {
      const api: Endpoint = { baseUrl: serverUrl, path: "/graphql", headers: auth };
      expectShape("Q1", await post(`${serverUrl}/graphql`, q1Bodies[0]!, auth), (data) => Array.isArray(data.customer?.entitlements));
      expectShape(
        "Q3",
        await post(`${serverUrl}/graphql`, q3Bodies[0]!, auth),
        (data) => typeof data.checkEntitlement?.allowed === "boolean",
      );
      expectShape("Q2", await post(`${serverUrl}/graphql`, q2Bodies[0]!, auth), (data) => data.customers?.edges?.length === 100);
      // Warm-up, as the full run's Q3 follows Q1 and Q2: Q1 fills the cache with every customer's usage.
      await warmUp(api, q1Bodies, seconds);
      await warmUp(api, q3Bodies, seconds);
      const measured = {
        q3rps1: await closedLoop(api, q3Bodies, { connections: 1, seconds }),
        q3rps16: await closedLoop(api, q3Bodies, { connections: 16, seconds }),
        q1rps16: await closedLoop(api, q1Bodies, { connections: 16, seconds }),
        q2rps16: await closedLoop(api, q2Bodies, { connections: 16, seconds }),
      };
      const failures = Object.values(measured).reduce((sum, result) => sum + result.failures, 0);
      if (failures > 0) throw new Error(`compare: ${failures} failed requests`);
      for (const [measure, result] of Object.entries(measured)) runs[variant]![measure as keyof typeof measured].push(result.rps);
      return `Q3 ${measured.q3rps1.rps} rps@1, ${measured.q3rps16.rps} rps@16; Q1 ${measured.q1rps16.rps} rps@16; Q2 ${measured.q2rps16.rps} rps@16`;
    });
    await inRounds("S1", async (serverUrl, round, variant) => {
      // A customer of its own in each run (the subscribers all watch one customer).
      const customer = `s1-${round}-${variant}`;
      await createCustomer(`${serverUrl}/graphql`, auth, customer, "S1 setup");
      const s1 = await delivery(serverUrl, customer);
      runs[variant]!.s1p50.push(s1.p50);
      runs[variant]!.s1p99.push(s1.p99);
      return `S1 p50/p99 ${s1.p50}/${s1.p99} ms`;
    });
    // Writes last: they add usage records, which the reads above should not meet in some rounds only.
    await inRounds("Q4, Q5", async (serverUrl, round, variant) => {
      const api: Endpoint = { baseUrl: serverUrl, path: "/graphql", headers: auth };
      const { load: q4 } = await consumeUnderContention(api, writes.meteredFeature, seconds, `q4-${round}-${variant}`);
      const q5 = await measureIngest(api, writes.ingest, seconds);
      if (q4.failures > 0) throw new Error(`compare: ${q4.failures} failed consumes`);
      runs[variant]!.q4rps16.push(q4.rps);
      runs[variant]!.q5batch.push(q5.batchRecordsPerS);
      runs[variant]!.q5single.push(q5.singleRps16);
      return `Q4 ${q4.rps} rps@16; Q5 ${q5.batchRecordsPerS} records/s in batches, ${q5.singleRps16} rps@16 one at a time`;
    });
    const [before, after] = runs;
    const result: Record<string, { base: number; ours: number; ratio: number; roundRatios: number[] }> = {};
    process.stdout.write(
      `\n| measure (median of ${rounds}) | ${revision} | working tree | working tree / ${revision} | each round's ratio |\n|---|---|---|---|---|\n`,
    );
    for (const [measure, label] of MEASURES) {
      if (before![measure].length === 0) continue; // a phase --only left out
      const baseValue = median(before![measure]);
      const ours = median(after![measure]);
      // A round runs both servers one after the other: its ratio shows how much a median can be trusted.
      const roundRatios = after![measure].map((value, round) => ratio(value, before![measure][round]!)).sort((a, b) => a - b);
      const entry = { base: baseValue, ours, ratio: ratio(ours, baseValue), roundRatios };
      result[measure] = entry;
      process.stdout.write(`| ${label} | ${entry.base} | ${entry.ours} | **${entry.ratio}** | ${roundRatios.join(", ")} |\n`);
    }
    process.stdout.write("\n");
    return { revision, rounds, ...result };
  } finally {
    base.remove();
  }
}
