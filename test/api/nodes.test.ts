// `node(id:)` and `nodes(ids:)`: any global id a client sends answers its node or NOT_FOUND at
// its place, never INTERNAL_ERROR; `nodes` is read per type in a fixed number of statements,
// limited in length before anything runs, and counted by the cost limit per id.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, globalIdOf, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const sqlCounter = new SqlCounter();
let t: TestApp;
const existing: { id: string; typename: string }[] = [];
let foreignCustomer: string;

beforeAll(async () => {
  t = await createTestApp({ sqlCounter });
  const s = seed(t);
  for (let i = 0; i < 5; i++) existing.push({ id: (await s.feature({ key: `f-${i}`, type: "BOOLEAN" })).id, typename: "Feature" });
  for (let i = 0; i < 5; i++) existing.push({ id: (await s.plan({ key: `p-${i}`, entitlements: { "f-0": {} } })).id, typename: "Plan" });
  for (let i = 0; i < 20; i++) existing.push({ id: (await s.customer(`c-${i}`)).id, typename: "Customer" });
  const other = await t.newProject("other");
  foreignCustomer = (await seed(t, other.key).customer("c-0")).id;
});
afterAll(() => t.close());

const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on Customer { externalId } ... on Feature { key } ... on Plan { key entitlements { feature { key } } } } }`;

/** `size` ids cycling through the existing nodes, unknown ids of several types, and another project's customer. */
function mixedIds(size: number): string[] {
  const unknown = ["Customer", "Feature", "Plan", "Grant"].map((type) => globalIdOf(type, randomUUID()));
  const pool = [...existing.map((node) => node.id), ...unknown, foreignCustomer];
  return Array.from({ length: size }, (_, i) => (i % 3 === 2 ? pool[existing.length + (i % 5)]! : pool[i % existing.length]!));
}

async function nodesOf(ids: string[]) {
  sqlCounter.reset();
  const started = performance.now();
  const result = await t.gql(NODES, { ids });
  return { result, statements: sqlCounter.count, ms: performance.now() - started };
}

describe("nodes(ids:)", () => {
  it("answers the limit's worth of ids of several types, each in its place, unknown and foreign ones NOT_FOUND at ids.<index>", async () => {
    const ids = mixedIds(100);
    const { result, ms } = await nodesOf(ids);
    const byId = new Map(existing.map((node) => [node.id, node.typename]));
    expect(result.data.nodes).toHaveLength(100);
    ids.forEach((id, index) => {
      const node = result.data.nodes[index];
      if (byId.has(id)) expect(node).toMatchObject({ id, __typename: byId.get(id) });
      else expect(node).toBeNull();
    });
    const missing = ids.flatMap((id, index) => (byId.has(id) ? [] : [index]));
    expect(missing.length).toBeGreaterThan(30);
    expect((result.errors ?? []).map((error) => [error.extensions?.code, error.extensions?.field, error.path])).toEqual(
      expect.arrayContaining(missing.map((index) => ["NOT_FOUND", `ids.${index}`, ["nodes", index]])),
    );
    expect(result.errors).toHaveLength(missing.length);
    // Linear work: 100 unknown ids once took seconds and 1,000 exhausted the heap.
    expect(ms).toBeLessThan(2_000);
  });

  it("costs the same SQL statements for 10 ids as for 100, nested selections included", async () => {
    const small = await nodesOf(mixedIds(10));
    const large = await nodesOf(mixedIds(100));
    expect(large.result.data.nodes.filter(Boolean).length).toBeGreaterThan(small.result.data.nodes.filter(Boolean).length);
    expect(large.statements).toBe(small.statements);
    // One read per type named (Customer, Feature, Plan, Grant) and one for the plans' entitlements.
    expect(large.statements).toBeLessThanOrEqual(6);
  });

  it("refuses more ids than the limit with VALIDATION_ERROR naming nodes.ids, before any SQL; the limit is configurable", async () => {
    sqlCounter.reset();
    const over = await t.gql(NODES, { ids: mixedIds(101) });
    expect(sqlCounter.count).toBe(0);
    expect(errorCodes(over)).toEqual(["VALIDATION_ERROR"]);
    expect(over.errors![0]!.extensions).toMatchObject({ field: "nodes.ids" });
    expect(over.errors![0]!.message).toMatch(/at most 100/);
    expect(over.data ?? null).toBeNull();

    const strict = await createTestApp({ limits: { maxNodeIds: 3 } });
    try {
      const query = `query ($ids: [ID!]!) { a: nodes(ids: $ids) { id } }`;
      const four = await strict.gql(query, { ids: mixedIds(4) });
      expect(four.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_ERROR", field: "a.ids" });
      expect(errorCodes(await strict.gql(query, { ids: mixedIds(3) }))).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    } finally {
      await strict.close();
    }
  });

  it("is counted by the cost limit per id: each id costs what a node with that selection costs", async () => {
    const query = `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { subscriptions(first: 100) { edges { node { id status } } } } } }`;
    sqlCounter.reset();
    const expensive = await t.gql(query, { ids: mixedIds(100) });
    expect(sqlCounter.count).toBe(0);
    expect(errorCodes(expensive)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(expensive.errors![0]!.extensions!.cost).toBeGreaterThan(100 * 100);
    ok(await t.gql(query, { ids: [existing.at(-1)!.id] }));
  });
});

describe("ids of no node type", () => {
  const strays = () => [
    globalIdOf("Foo", randomUUID()),
    globalIdOf("Project", randomUUID()),
    globalIdOf("FeatureLevel", randomUUID()),
    globalIdOf("Query", randomUUID()),
    globalIdOf("__proto__", randomUUID()),
    globalIdOf("Node", randomUUID()),
  ];

  it("node(id:) answers NOT_FOUND, like an unknown id", async () => {
    for (const id of strays()) {
      const result = await t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id });
      expect({ id, codes: errorCodes(result), field: result.errors?.[0]?.extensions?.field }).toEqual({
        id,
        codes: ["NOT_FOUND"],
        field: "id",
      });
    }
  });

  it("nodes(ids:) answers NOT_FOUND at each one's index, and the others still answer", async () => {
    const ids = [existing[0]!.id, ...strays(), existing.at(-1)!.id];
    const result = await t.gql(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids });
    expect(result.data.nodes.map((node: { id: string } | null) => node?.id ?? null)).toEqual([
      ids[0],
      ...strays().map(() => null),
      ids.at(-1),
    ]);
    expect(result.errors!.map((error) => [error.extensions?.code, error.extensions?.field])).toEqual(
      strays().map((_, index) => ["NOT_FOUND", `ids.${index + 1}`]),
    );
  });
});
