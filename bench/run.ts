// npm run bench [-- --quick] [--scale N] [--db postgres|pglite] [--keep] [--cpu-prof DIR] [--only q1,q3,…]
//                [--seconds N] [--subscribers N] [--compare GIT_REVISION [--rounds N]]
// Generates the dataset into a fresh database (a new PostgreSQL database on DATABASE_URL's
// server, else an embedded one in a temporary directory), measures the floor (bench/floor.ts)
// and then the server (`npm start`'s entry) over HTTP with autocannon, both as child
// processes on the same data, and prints a table and, last, `BENCH {json}`.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Agent, request as httpRequest } from "node:http";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { createClient } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { PGlite } from "@electric-sql/pglite";
import { openDatabase } from "../src/db/client.ts";
import { applyMigrations } from "../src/db/migrations.ts";
import { createProjectWithAdminKey } from "../src/auth/projects.ts";
import { generateDataset, seededRandom, type DatasetIndex, type SqlRunner } from "./dataset.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    scale: { type: "string" },
    db: { type: "string" },
    keep: { type: "boolean", default: false },
    /** Writes a V8 CPU profile of the server into this directory (open it in Chrome's DevTools). */
    "cpu-prof": { type: "string" },
    /** Measures only these (q1, q2, q3, q4, s1), e.g. to profile one; the BENCH line then lacks the others. */
    only: { type: "string" },
    /** Length of each load run (default 3 with --quick, else 10) and S1's subscribers (default 1000): the smoke test shrinks them. */
    seconds: { type: "string" },
    /** The server's JavaScript heap limit (node --max-old-space-size); default: npm start's (HEAP_LIMIT_MB, else 256). */
    "heap-mb": { type: "string" },
    subscribers: { type: "string" },
    /** Instead of the measures: this revision's server against the working tree's, Q1, Q3 and S1 in alternate runs on the same data. */
    compare: { type: "string" },
    /** Rounds of --compare (each runs both servers once); default 4. */
    rounds: { type: "string" },
  },
});
const quick = args.quick ?? false;
const scale = Number(args.scale ?? (quick ? 0.1 : 1));
const dbKind = (args.db ?? (process.env.DATABASE_URL ? "postgres" : "pglite")) as "postgres" | "pglite";
const seconds = Number(args.seconds ?? (quick ? 3 : 10));
const SUBSCRIBERS = Number(args.subscribers ?? 1000);
const MEASURES = ["q1", "q2", "q3", "q4", "s1"] as const;
const only = new Set(args.only?.split(",").map((name) => name.trim().toLowerCase()) ?? MEASURES);
for (const name of only) if (!(MEASURES as readonly string[]).includes(name)) throw new Error(`--only: unknown measure ${name} (choose from ${MEASURES.join(", ")})`);
const Q3_RATE = 1000;
const measures = (name: (typeof MEASURES)[number]) => only.has(name);

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

// ---------------------------------------------------------------- database and dataset

interface Target {
  env: Record<string, string>;
  floorEnv: Record<string, string>;
  drop(): Promise<void>;
}

async function createTarget(): Promise<Target & { run(generate: (sql: SqlRunner, projectId: string) => Promise<DatasetIndex>): Promise<{ index: DatasetIndex; key: string; projectId: string }> }> {
  if (dbKind === "postgres") {
    const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
    const name = `entitlements_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString() },
      floorEnv: { FLOOR_DATABASE_URL: url.toString() },
      async run(generate) {
        const database = openDatabase({ kind: "postgres", url: url.toString() });
        const client = new pg.Client({ connectionString: url.toString() });
        try {
          await applyMigrations(database);
          const project = await createProjectWithAdminKey(database.prisma, "bench");
          await client.connect();
          const index = await generate(client, project.projectId);
          return { index, key: project.secret, projectId: project.projectId };
        } finally {
          await client.end();
          await database.close();
        }
      },
      async drop() {
        if (args.keep) {
          log(`kept database ${url}`);
          return;
        }
        const client = new pg.Client({ connectionString: adminUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), "entitlements-bench-"));
  return {
    env: { DATA_DIR: dataDir },
    floorEnv: { FLOOR_DATA_DIR: dataDir },
    async run(generate) {
      const instance = new PGlite(dataDir);
      const database = openDatabase({ kind: "pglite", instance });
      try {
        await applyMigrations(database);
        const project = await createProjectWithAdminKey(database.prisma, "bench");
        const index = await generate({ query: (sql, params) => instance.query(sql, params) }, project.projectId);
        return { index, key: project.secret, projectId: project.projectId };
      } finally {
        await database.close();
        await instance.close();
      }
    },
    async drop() {
      if (args.keep) {
        log(`kept ${dataDir}`);
        return;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- child processes

interface Child {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function startChild(script: string, env: Record<string, string>, ready: RegExp, urlOf: (match: RegExpExecArray) => string, nodeArgs: string[] = [], cwd = root): Promise<Child> {
  // TypeScript runs through tsx; the built server (JavaScript) as it is.
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script], {
    cwd,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) {
        child.stdout!.off("data", look);
        resolve({
          url: urlOf(match),
          pid: child.pid!,
          stop: () =>
            new Promise<void>((done) => {
              child.once("exit", () => done());
              child.kill("SIGTERM");
            }),
        });
      }
    };
    child.stdout!.on("data", look);
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
}

// ---------------------------------------------------------------- load

/** Zipf-distributed ranks in [0, n): rank r is chosen with probability ∝ 1 / (r + 1)^s. */
function zipfSampler(n: number, s: number, random: () => number) {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) cdf[rank] = total += 1 / (rank + 1) ** s;
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cdf[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
}

/**
 * Waits until the server answers /healthz promptly twice in a row: requests a finished run
 * abandoned (64 connections of Q2 pages queue for seconds) must not be counted in the next.
 */
async function settle(url: string) {
  const deadline = Date.now() + 60_000;
  let prompt = 0;
  while (prompt < 2 && Date.now() < deadline) {
    const started = performance.now();
    // A kept-alive socket the server closed while it was busy can fail one probe: try again.
    const answered = await fetch(`${url}/healthz`).then((response) => response.arrayBuffer()).then(() => true, () => false);
    prompt = answered && performance.now() - started < 20 ? prompt + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Drives `path` flat out over `connections` with the given bodies in turn (a fixed list, chosen ahead of time). */
async function load(url: string, path: string, bodies: string[], options: { connections: number; headers?: Record<string, string> }): Promise<LoadResult> {
  await settle(url);
  let next = 0;
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path,
        headers: { "content-type": "application/json", ...options.headers },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }),
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * Latency at a fixed rate, open loop: request i is due at start + i / rate, sent then whether
 * or not earlier ones have answered, and timed from when it was due (so a stall counts
 * against every request it delays). autocannon's rate is not this: each connection sends
 * flat out until its quota for the second is spent, then waits for the next second, which
 * measures a 16-deep queue at the start of every second rather than latency at that rate.
 */
async function paced(url: string, path: string, bodies: string[], rate: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  await settle(url);
  const target = new URL(path, url);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let failures = 0;
  const send = (index: number, dueAt: number) =>
    new Promise<void>((done) => {
      const body = bodies[index % bodies.length]!;
      const req = httpRequest(target, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } }, (response) => {
        response.resume();
        response.on("end", () => {
          if (response.statusCode !== 200) failures++;
          latencies.push(performance.now() - dueAt);
          done();
        });
      });
      req.on("error", () => {
        failures++;
        done();
      });
      req.end(body);
    });
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    for (; sent < total && started + (sent * 1000) / rate <= now; sent++) inFlight.push(send(sent, started + (sent * 1000) / rate));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
  return { rps: Math.round(latencies.length / elapsed), p50: at(0.5), p99: at(0.99), requests: latencies.length, failures };
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

/** The entitlement cache's lookups so far, by kind: { customer_rows: { hit, miss }, … }. */
async function cacheLookups(serverUrl: string): Promise<Record<string, Record<string, number>>> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const lookups: Record<string, Record<string, number>> = {};
  for (const [, kind, result, value] of text.matchAll(/^entitlements_cache_lookups_total\{kind="(\w+)",result="(\w+)"\} (\d+)/gm)) {
    (lookups[kind!] ??= {})[result!] = Number(value);
  }
  return lookups;
}

async function metric(serverUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? NaN);
}

// ---------------------------------------------------------------- queries

const Q1 = `query Q1($c: String!) { customer(externalId: $c) { entitlements {
  featureKey isEnabled usageLimit isUnlimited hasAccess usage { used remaining } sources { type entityName usageLimit }
} } }`;
const Q2 = `query Q2($n: Int!) { customers(first: $n) { edges { node { externalId entitlements {
  featureKey usageLimit hasAccess usage { used }
} } } } }`;
const Q3 = `query Q3($c: String!, $f: String!) { checkEntitlement(customer: { externalId: $c }, featureKey: $f) { allowed reason } }`;
const Q4 = `mutation Q4($c: String!, $f: String!) { consumeEntitlement(input: { customer: { externalId: $c }, featureKey: $f }) { allowed reason } }`;
const gqlBody = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

function expectShape(what: string, response: { data?: any; errors?: unknown[] }, check: (data: any) => boolean) {
  if (response.errors || !response.data || !check(response.data)) {
    throw new Error(`${what}: unexpected response ${JSON.stringify(response).slice(0, 500)}`);
  }
}

// ---------------------------------------------------------------- S1

/** Latency from sending a change to each of SUBSCRIBERS graphql-ws subscribers hearing it. */
async function measureDelivery(serverUrl: string, key: string, customer: string, featureKey: string): Promise<{ p50: number; p99: number; deliveries: number }> {
  const wsUrl = `${serverUrl.replace("http", "ws")}/graphql`;
  const clients = Array.from({ length: SUBSCRIBERS }, () =>
    createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: false }),
  );
  let sentAt = 0;
  let heard = 0;
  const latencies: number[] = [];
  let onHeard: () => void = () => {};
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((subscribed, failed) => {
          client.on("connected", () => subscribed());
          client.on("error", failed);
          client.subscribe(
            { query: `subscription ($c: CustomerRef!) { entitlementsChanged(customer: $c) { cause changedFeatureKeys entitlements { featureKey hasAccess usageLimit } } }`, variables: { c: { externalId: customer } } },
            {
              next: () => {
                latencies.push(performance.now() - sentAt);
                heard++;
                onHeard();
              },
              error: () => {},
              complete: () => {},
            },
          );
        }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const changes = quick ? 10 : 30;
  // The first changes run the mutation's and the delivery's code for the first time (the
  // server's JIT compiles it then: a first createGrant takes ~0.5 s on a fresh server); they
  // are not counted, as a server that has run for a while would not pay for them.
  const warmUps = 3;
  for (let change = 0; change < warmUps + changes; change++) {
    if (change === warmUps) latencies.length = 0;
    heard = 0;
    const all = new Promise<void>((resolve) => {
      onHeard = () => heard >= SUBSCRIBERS && resolve();
      setTimeout(resolve, 10_000);
    });
    sentAt = performance.now();
    const granted = await post(`${serverUrl}/graphql`, gqlBody(`mutation ($c: String!, $f: String!, $n: Int!) { createGrant(input: { customer: { externalId: $c }, featureKey: $f, usageLimit: $n }) { id } }`, { c: customer, f: featureKey, n: 10 + change }), { authorization: `Bearer ${key}` });
    expectShape("S1 change", granted, (data) => Boolean(data.createGrant?.id));
    await all;
  }
  await Promise.all(clients.map((client) => client.dispose()));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), deliveries: latencies.length };
}

// ---------------------------------------------------------------- the server

/** Builds the server as `npm run build` does, in `dir` (this checkout or another revision's). */
function buildServer(dir: string) {
  run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], dir);
}

function run(command: string, commandArgs: string[], cwd: string, env: Record<string, string> = {}) {
  // Their output goes to stderr: stdout is the report.
  const result = spawnSync(command, commandArgs, { cwd, stdio: ["ignore", 2, 2], env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(" ")} failed in ${cwd}`);
}

/** The server as `npm start` runs it (built, with the same heap limit), from `dir`. */
function startServer(env: Record<string, string>, dir = root) {
  // The rate limiter counts every request (so its cost is measured) but never refuses: one key drives thousands a second.
  return startChild("dist/src/server.js", { ...env, SEED_DEMO: "false", LOG_LEVEL: "info", RATE_LIMIT_REQUESTS: "1000000000", RATE_LIMIT_USAGE: "1000000000" }, /"url":"(http:\/\/[^"]+)\/graphql"/, (m) => m[1]!, [
    ...(args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${args["cpu-prof"]}`] : []),
    `--max-old-space-size=${Number(args["heap-mb"] ?? process.env.HEAP_LIMIT_MB ?? 256)}`,
  ], dir);
}

// ---------------------------------------------------------------- --compare

/** Another revision's server, built in a temporary git worktree that shares this checkout's node_modules. */
function checkOutRevision(revision: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "entitlements-base-"));
  run("git", ["worktree", "add", "--detach", "--force", dir, revision], root);
  const remove = () => run("git", ["worktree", "remove", "--force", dir], root);
  try {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    // Its own Prisma client, from its own schema (the generated client is not committed).
    run(process.execPath, [join(root, "node_modules/prisma/build/index.js"), "generate"], dir, { PRISMA_SCHEMA_ENGINE_BINARY: "./scripts/no-native-schema-engine.sh" });
    buildServer(dir);
  } catch (error) {
    remove(); // a revision that does not build leaves no worktree behind
    throw error;
  }
  return { dir, remove };
}

/**
 * Requests/s of Q3 (1 and 16 connections) and Q1 (16), and S1's delivery latency, for
 * `revision`'s server and the working tree's, in alternating runs on the same data, so that a
 * change is measured against its base in one run rather than across days; prints the medians
 * and their ratios.
 */
async function compareWith(
  revision: string,
  env: Record<string, string>,
  { q1Bodies, q3Bodies }: { q1Bodies: string[]; q3Bodies: string[] },
  auth: Record<string, string>,
  delivery: (serverUrl: string, customer: string) => Promise<{ p50: number; p99: number }>,
) {
  const rounds = Number(args.rounds ?? 4);
  log(`compare: building ${revision} in a worktree, and the working tree`);
  const base = checkOutRevision(revision);
  try {
    buildServer(root);
    const variants = [{ name: revision, dir: base.dir }, { name: "working tree", dir: root }];
    const runs = new Map(variants.map(({ name }) => [name, { q3rps1: [] as number[], q3rps16: [] as number[], q1rps16: [] as number[], s1p50: [] as number[], s1p99: [] as number[] }]));
    /** Each round starts each variant's server in turn (alternating who goes first) and runs `measure` on it. */
    const inRounds = async (phase: string, measure: (serverUrl: string, round: number, variant: number) => Promise<string>) => {
      for (let round = 0; round < rounds; round++) {
        for (const variant of round % 2 === 0 ? [0, 1] : [1, 0]) {
          const server = await startServer(env, variants[variant]!.dir);
          try {
            log(`compare: ${phase}, round ${round + 1}/${rounds}, ${variants[variant]!.name}: ${await measure(server.url, round, variant)}`);
          } finally {
            await server.stop();
          }
        }
      }
    };
    // Requests first, then deliveries: a thousand WebSocket clients closing would weigh on the next requests' generator.
    await inRounds("Q3, Q1", async (serverUrl, _round, variant) => {
      const url = `${serverUrl}/graphql`;
      expectShape("Q1", await post(url, q1Bodies[0]!, auth), (data) => Array.isArray(data.customer?.entitlements));
      expectShape("Q3", await post(url, q3Bodies[0]!, auth), (data) => typeof data.checkEntitlement?.allowed === "boolean");
      // Warm-up, as the full run's Q3 follows Q1 and Q2: Q1 fills the cache with every customer's usage.
      await load(serverUrl, "/graphql", q1Bodies, { connections: 16, headers: auth });
      await load(serverUrl, "/graphql", q3Bodies, { connections: 16, headers: auth });
      const measured = {
        q3rps1: await load(serverUrl, "/graphql", q3Bodies, { connections: 1, headers: auth }),
        q3rps16: await load(serverUrl, "/graphql", q3Bodies, { connections: 16, headers: auth }),
        q1rps16: await load(serverUrl, "/graphql", q1Bodies, { connections: 16, headers: auth }),
      };
      const failures = Object.values(measured).reduce((sum, result) => sum + result.failures, 0);
      if (failures > 0) throw new Error(`compare: ${failures} failed requests`);
      const results = runs.get(variants[variant]!.name)!;
      for (const [measure, result] of Object.entries(measured)) results[measure as keyof typeof measured].push(result.rps);
      return `Q3 ${measured.q3rps1.rps} rps@1, ${measured.q3rps16.rps} rps@16; Q1 ${measured.q1rps16.rps} rps@16`;
    });
    await inRounds("S1", async (serverUrl, round, variant) => {
      // A customer of its own in each run (the subscribers all watch one customer).
      const customer = `s1-${round}-${variant}`;
      expectShape("S1 setup", await post(`${serverUrl}/graphql`, gqlBody(`mutation ($c: String!) { createCustomer(input: { externalId: $c }) { id } }`, { c: customer }), auth), (data) => Boolean(data.createCustomer));
      const s1 = await delivery(serverUrl, customer);
      const results = runs.get(variants[variant]!.name)!;
      results.s1p50.push(s1.p50);
      results.s1p99.push(s1.p99);
      return `S1 p50/p99 ${s1.p50}/${s1.p99} ms`;
    });
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const [before, after] = variants.map(({ name }) => runs.get(name)!);
    const result: Record<string, { base: number; ours: number; ratio: number }> = {};
    process.stdout.write(`\n| measure (median of ${rounds}) | ${revision} | working tree | working tree / ${revision} |\n|---|---|---|---|\n`);
    const measures = [["q3rps1", "Q3 rps@1"], ["q3rps16", "Q3 rps@16"], ["q1rps16", "Q1 rps@16"], ["s1p50", "S1 p50 ms (lower is better)"], ["s1p99", "S1 p99 ms (lower is better)"]] as const;
    for (const [measure, label] of measures) {
      const entry = { base: median(before![measure]), ours: median(after![measure]), ratio: 0 };
      entry.ratio = Math.round((entry.ours / entry.base) * 100) / 100;
      result[measure] = entry;
      process.stdout.write(`| ${label} | ${entry.base} | ${entry.ours} | **${entry.ratio}** |\n`);
    }
    process.stdout.write("\n");
    return { revision, rounds, ...result };
  } finally {
    base.remove();
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  log(`${dbKind}, scale ${scale}${quick ? ", quick" : ""}: generating the dataset`);
  const target = await createTarget();
  try {
    const { index, key, projectId } = await target.run((sql, project) => generateDataset(sql, project, scale));
    log(`dataset ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(index.sizes)}`);
    if (args.keep) log(`API key of the kept project: ${key}`);
    const auth = { authorization: `Bearer ${key}` };
    const random = seededRandom(7);
    const zipf = zipfSampler(index.customerExternalIds.length, 1.1, random.next);
    const sample = Array.from({ length: 5000 }, () => zipf()).filter((rank) => index.meteredKeysByCustomer[rank]!.length > 0);
    const checks = sample.map((rank) => ({ c: index.customerExternalIds[rank]!, f: random.pick(index.meteredKeysByCustomer[rank]!) }));

    const q1Bodies = checks.map(({ c }) => gqlBody(Q1, { c }));
    const q3Bodies = checks.map(({ c, f }) => gqlBody(Q3, { c, f }));
    if (args.compare) {
      const meteredFeature = index.meteredKeysByCustomer.find((keys) => keys.length > 0)![0]!;
      const compare = await compareWith(args.compare, target.env, { q1Bodies, q3Bodies }, auth, (serverUrl, customer) => measureDelivery(serverUrl, key, customer, meteredFeature));
      process.stdout.write(`BENCH ${JSON.stringify({ db: dbKind, scale, quick, sizes: index.sizes, compare })}\n`);
      return;
    }

    // The floor, alone on the machine.
    const floorQ1Bodies = checks.map(({ c }) => JSON.stringify({ customer: c }));
    const floorQ3Bodies = checks.map(({ c, f }) => JSON.stringify({ customer: c, featureKey: f }));
    let floorQ1: LoadResult | undefined;
    let floorQ3: LoadResult | undefined;
    /** The floor's Q3 latency at the rate ours is judged at: what this machine allows. */
    let floorQ3AtRate: LoadResult | undefined;
    if (measures("q1") || measures("q3")) {
      const floor = await startChild("bench/floor.ts", { ...target.floorEnv, FLOOR_PROJECT_ID: projectId }, /floor listening (\d+)/, (m) => `http://127.0.0.1:${m[1]}`);
      expectShape("floor Q1", await post(`${floor.url}/q1`, floorQ1Bodies[0]!), (data) => Array.isArray(data) && data.length > 0);
      expectShape("floor Q3", await post(`${floor.url}/q3`, floorQ3Bodies[0]!), (data) => typeof data.allowed === "boolean");
      log("floor: Q1, Q3 at 16 connections");
      await load(floor.url, "/q1", floorQ1Bodies, { connections: 16 }); // warm-up
      floorQ1 = await load(floor.url, "/q1", floorQ1Bodies, { connections: 16 });
      floorQ3 = await load(floor.url, "/q3", floorQ3Bodies, { connections: 16 });
      floorQ3AtRate = await paced(floor.url, "/q3", floorQ3Bodies, Q3_RATE);
      await floor.stop();
    }

    // The server, on the same data.
    log("building the server (npm run build)");
    buildServer(root);
    const server = await startServer(target.env);
    const graphqlUrl = `${server.url}/graphql`;
    const megabytes = async (name: string) => Math.round((await metric(server.url, name)) / 2 ** 20);
    const rssStart = await megabytes("process_resident_memory_bytes");
    const heapStart = await megabytes("nodejs_heap_size_used_bytes");
    /** RSS after each measure: growth shows here, a plateau too. */
    const rssAfter: Record<string, number> = {};
    for (const body of q1Bodies.slice(0, 20)) expectShape("Q1", await post(graphqlUrl, body, auth), (data) => Array.isArray(data.customer?.entitlements) && data.customer.entitlements.length > 0);
    for (const body of q3Bodies.slice(0, 20)) expectShape("Q3", await post(graphqlUrl, body, auth), (data) => typeof data.checkEntitlement?.allowed === "boolean");

    /** rps at 1, 16 and 64 connections, latency at a fixed rate, SQL statements per request. */
    const profile = async (name: string, bodies: string[], rate: number) => {
      log(`${name}: 1, 16, 64 connections; ${rate} req/s`);
      await load(server.url, "/graphql", bodies, { connections: 16, headers: auth }); // warm-up
      const one = await load(server.url, "/graphql", bodies, { connections: 1, headers: auth });
      const statementsBefore = await metric(server.url, "entitlements_sql_statements_total");
      const sixteen = await load(server.url, "/graphql", bodies, { connections: 16, headers: auth });
      const statements = (await metric(server.url, "entitlements_sql_statements_total")) - statementsBefore;
      const sixtyFour = await load(server.url, "/graphql", bodies, { connections: 64, headers: auth });
      const fixed = await paced(server.url, "/graphql", bodies, rate, auth);
      const failures = one.failures + sixteen.failures + sixtyFour.failures + fixed.failures;
      if (failures > 0) throw new Error(`${name}: ${failures} failed requests`);
      return { rps1: one.rps, rps16: sixteen.rps, rps64: sixtyFour.rps, rate, p50ms: fixed.p50, p99ms: fixed.p99, sqlPerRequest: Math.round((statements / sixteen.requests) * 100) / 100 };
    };
    const ratio = (ours: number, floorRps: number) => Math.round((ours / floorRps) * 100) / 100;
    const rows: (string | number)[][] = [];
    const report: Record<string, unknown> = { db: dbKind, scale, quick, sizes: index.sizes };

    if (measures("q1")) {
      const q1 = await profile("Q1", q1Bodies, 200);
      report.q1 = { ...q1, floorRps16: floorQ1!.rps, ratio: ratio(q1.rps16, floorQ1!.rps), floorP99ms: floorQ1!.p99 };
      rssAfter.q1 = await megabytes("process_resident_memory_bytes");
      rows.push(["Q1 entitlements", q1.rps1, q1.rps16, q1.rps64, floorQ1!.rps, ratio(q1.rps16, floorQ1!.rps), `${q1.p50ms}/${q1.p99ms} @${q1.rate}`, q1.sqlPerRequest]);
    }
    if (measures("q2")) {
      // SQL statements for pages of 1, 10 and 100, then load on pages of 100.
      const q2Sql: Record<string, number> = {};
      for (const n of [1, 10, 100]) {
        const body = gqlBody(Q2, { n });
        expectShape("Q2", await post(graphqlUrl, body, auth), (data) => data.customers?.edges?.length === n);
        // The median of five: a cache entry reaching its TTL in between costs one request a reload.
        const counts: number[] = [];
        for (let round = 0; round < 5; round++) {
          const before = await metric(server.url, "entitlements_sql_statements_total");
          await post(graphqlUrl, body, auth);
          counts.push((await metric(server.url, "entitlements_sql_statements_total")) - before);
        }
        q2Sql[n] = counts.sort((a, b) => a - b)[2]!;
      }
      const q2 = await profile("Q2", [gqlBody(Q2, { n: 100 })], 5);
      report.q2 = { rps16: q2.rps16, p99ms: q2.p99ms, sqlPerRequest: q2Sql };
      rssAfter.q2 = await megabytes("process_resident_memory_bytes");
      rows.push(["Q2 page of 100", q2.rps1, q2.rps16, q2.rps64, "", "", `${q2.p50ms}/${q2.p99ms} @${q2.rate}`, `${q2Sql[1]}/${q2Sql[10]}/${q2Sql[100]}`]);
    }
    if (measures("q3")) {
      const q3 = await profile("Q3", q3Bodies, Q3_RATE);
      report.q3 = { ...q3, floorRps16: floorQ3!.rps, ratio: ratio(q3.rps16, floorQ3!.rps), floorP99ms: floorQ3!.p99, floorP99msAtRate: floorQ3AtRate!.p99 };
      rssAfter.q3 = await megabytes("process_resident_memory_bytes");
      rows.push(["Q3 check", q3.rps1, q3.rps16, q3.rps64, floorQ3!.rps, ratio(q3.rps16, floorQ3!.rps), `${q3.p50ms}/${q3.p99ms} @${q3.rate}`, q3.sqlPerRequest]);
      rows.push(["Q3 on the floor", "", floorQ3!.rps, "", "", "", `${floorQ3AtRate!.p50}/${floorQ3AtRate!.p99} @${Q3_RATE}`, 1]);
    }

    const meteredFeature = index.meteredKeysByCustomer.find((keys) => keys.length > 0)![0]!;
    const notes: string[] = [];
    if (measures("q4")) {
      // Consumption under contention on ten customers with a hard limit of 100.
      const contended = Array.from({ length: 10 }, (_, i) => `q4-${i}`);
      for (const c of contended) {
        expectShape("Q4 setup", await post(graphqlUrl, gqlBody(`mutation ($c: String!, $f: String!) {
          a: createCustomer(input: { externalId: $c }) { id }
          b: createGrant(input: { customer: { externalId: $c }, featureKey: $f, usageLimit: 100 }) { id }
        }`, { c, f: meteredFeature }), auth), (data) => Boolean(data.b?.id));
      }
      const q4Bodies = Array.from({ length: 1000 }, (_, i) => gqlBody(Q4, { c: contended[i % contended.length], f: meteredFeature }));
      log("Q4: 16 connections");
      const q4 = await load(server.url, "/graphql", q4Bodies, { connections: 16, headers: auth });
      let overLimit = 0;
      for (const c of contended) {
        const check = await post(graphqlUrl, gqlBody(`query ($c: String!, $f: String!) { customer(externalId: $c) { entitlement(featureKey: $f) { usageLimit usage { used } } } }`, { c, f: meteredFeature }), auth);
        const entitlement = (check.data as any)?.customer?.entitlement;
        if (!entitlement || entitlement.usage.used > entitlement.usageLimit) overLimit++;
      }
      report.q4 = { rps16: q4.rps, p99ms: q4.p99, overLimit, failures: q4.failures };
      rssAfter.q4 = await megabytes("process_resident_memory_bytes");
      rows.push(["Q4 consume", "", q4.rps, "", "", "", `-/${q4.p99}`, ""]);
      notes.push(`Q4 over the limit: ${overLimit}.`);
    }
    if (measures("s1")) {
      log(`S1: ${SUBSCRIBERS} graphql-ws subscribers`);
      expectShape("S1 setup", await post(graphqlUrl, gqlBody(`mutation { createCustomer(input: { externalId: "s1" }) { id } }`, {}), auth), (data) => Boolean(data.createCustomer));
      const s1 = await measureDelivery(server.url, key, "s1", meteredFeature);
      report.s1 = { subscribers: SUBSCRIBERS, ...s1, p99ms: s1.p99 };
      rssAfter.s1 = await megabytes("process_resident_memory_bytes");
      notes.push(`S1: ${s1.deliveries} deliveries to ${SUBSCRIBERS} subscribers, p50 ${s1.p50} ms, p99 ${s1.p99} ms.`);
    }
    const rssEnd = await megabytes("process_resident_memory_bytes");
    const heapEnd = await megabytes("nodejs_heap_size_used_bytes");
    const cache = await cacheLookups(server.url);
    await server.stop();
    report.rssMb = { start: rssStart, end: rssEnd, after: rssAfter };
    report.heapUsedMb = { start: heapStart, end: heapEnd };
    report.cacheLookups = cache;
    report.seconds = Math.round((Date.now() - started) / 1000);
    notes.push(`RSS ${rssStart} → ${Object.entries(rssAfter).map(([name, mb]) => `${mb} (after ${name.toUpperCase()})`).join(" → ")} MB (JavaScript heap in use ${heapStart} → ${heapEnd} MB).`);

    process.stdout.write(`\n| query | rps@1 | rps@16 | rps@64 | floor rps@16 | ratio | p50/p99 ms @ req/s | SQL/request |\n|---|---|---|---|---|---|---|---|\n`);
    for (const row of rows) process.stdout.write(`| ${row.join(" | ")} |\n`);
    const hitRates = Object.entries(cache).map(([kind, { hit = 0, miss = 0 }]) => `${kind} ${Math.round((100 * hit) / (hit + miss))}%`);
    notes.push(`Cache hits: ${hitRates.join(", ")}.`);
    process.stdout.write(`\n${notes.join(" ")}\n\n`);
    process.stdout.write(`BENCH ${JSON.stringify(report)}\n`);
  } finally {
    await target.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
