// The server as `npm start` runs it (a 256 MB heap) under documents that each parse anew:
// 1,500 distinct 50-alias operations, differing by a trailing comment or by inline literals,
// and wide aliased queries (over the alias limit: refused, but parsed first). Parsed documents
// are cached by their text's length (src/plugins/document-cache.ts), so the heap levels off
// instead of filling: the process stays alive and its heap in use stays under HEAP_BOUND.
// Then `nodes(ids:)` at its limit (100 ids of customers that do not exist, the case that
// once took 4 GB) in parallel, while hundreds of subscribers hold their streams open.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_LISTENING, startNodeProcess, type NodeProcess } from "../helpers/process.ts";

const KEY = "ent_memory-under-abuse-test-key-0123456789";
const HEAP_LIMIT_MB = 256;
// An idle server uses some 60–90 MB; the document cache adds at most ~12 MB (250,000
// characters of text, at ~50 bytes of syntax tree each), and the run peaks near 110 MB. 200 MB
// leaves room for garbage not yet collected; with yoga's cache bounded by count alone the
// process runs out of heap and dies within these documents.
const HEAP_BOUND = 200 * 1024 * 1024;
const DOCUMENTS = 1500;
const PARALLEL = 8;

const dataDir = mkdtempSync(join(tmpdir(), "entitlements-memory-"));
let server: NodeProcess;
let url: string;

beforeAll(async () => {
  server = await startNodeProcess("src/server.ts", {
    env: { DATA_DIR: dataDir, BOOTSTRAP_API_KEY: KEY, SEED_DEMO: "false", LOG_LEVEL: "info" },
    nodeArgs: [`--max-old-space-size=${HEAP_LIMIT_MB}`],
    ready: SERVER_LISTENING,
    timeoutMs: 60_000,
  });
  url = server.ready[1]!;
}, 70_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resolved in memory (introspection), so that the test measures documents, not the database. */
const aliased = (count: number, name: (alias: number) => string) =>
  Array.from(
    { length: count },
    (_, alias) => `a${alias}: __type(name: "${name(alias)}") { name kind fields { name type { name kind } } }`,
  ).join("\n");

const DOCUMENT = (index: number) =>
  index % 2 === 0 ? `{ ${aliased(50, () => "Feature")} } # request ${index}` : `{ ${aliased(50, (alias) => `Feature${index}x${alias}`)} }`;

const heapUsed = async () => {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metrics)?.[1]);
};

const post = (query: string) =>
  fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query }),
  });

describe("memory under abuse", () => {
  it(`stays alive and under ${HEAP_BOUND / 2 ** 20} MB of heap through ${DOCUMENTS} distinct documents and wide queries`, async () => {
    let peak = await heapUsed();
    let next = 0;
    const statuses = new Set<number>();
    const worker = async () => {
      for (let index = next++; index < DOCUMENTS; index = next++) {
        const response = await post(index % 10 === 9 ? `{ ${aliased(100, () => "Customer")} } # wide ${index}` : DOCUMENT(index));
        statuses.add(response.status);
        await response.arrayBuffer();
        if (index % 250 === 0) peak = Math.max(peak, await heapUsed());
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    peak = Math.max(peak, await heapUsed());
    console.info(`memory under abuse: ${DOCUMENTS} documents, heap peak ${(peak / 2 ** 20).toFixed(0)} MB`);
    expect(server.child.exitCode).toBeNull();
    expect([...statuses].every((status) => status < 500)).toBe(true);
    expect(peak).toBeLessThan(HEAP_BOUND);
  }, 90_000);

  it("stays alive and under the bound with nodes(ids:) at its limit while 300 subscribers listen", async () => {
    const subscribers = Array.from({ length: 300 }, () => new AbortController());
    const streams = await Promise.all(
      subscribers.map((controller) =>
        fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ query: "subscription { entitlementsChanged { cause changedFeatureKeys } }" }),
          signal: controller.signal,
        }),
      ),
    );
    expect(streams.every((stream) => stream.status === 200)).toBe(true);
    const ids = () => Array.from({ length: 100 }, () => Buffer.from(`Customer:${randomUUID()}`).toString("base64"));
    let peak = await heapUsed();
    let sent = 0;
    const worker = async () => {
      for (; sent < 200; sent++) {
        const response = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ query: "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", variables: { ids: ids() } }),
        });
        const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
        // Every id is unknown: each answers NOT_FOUND in its place, none INTERNAL_ERROR.
        expect(body.errors).toHaveLength(100);
        expect(new Set(body.errors?.map((error) => error.extensions?.code))).toEqual(new Set(["NOT_FOUND"]));
        if (sent % 50 === 0) peak = Math.max(peak, await heapUsed());
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    peak = Math.max(peak, await heapUsed());
    for (const controller of subscribers) controller.abort();
    console.info(
      `memory under abuse: 200 nodes(ids:) of 100 unknown ids with 300 subscribers, heap peak ${(peak / 2 ** 20).toFixed(0)} MB`,
    );
    expect(server.child.exitCode).toBeNull();
    expect(peak).toBeLessThan(HEAP_BOUND);
    expect((await post("{ __typename }")).status).toBe(200);
  }, 90_000);
});
