// What one request may ask: depth, aliases, directives, tokens, cost in list sizes, page
// sizes, body size and batches, each refused with a coded error before anything runs; and
// introspection and GraphiQL switched off by configuration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, firstError, ok, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const sqlCounter = new SqlCounter();
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ sqlCounter });
  await seed(t).customer("limits-1");
});
afterAll(() => t.close());

/** Posts `body` as it is (a string: sent with its length; a stream: chunked). */
async function post(app: TestApp, body: BodyInit, headers: Record<string, string> = {}) {
  const response = await app.app.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${app.adminKey}`, ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  return { status: response.status, json: (await response.json()) as GraphQLResponse | GraphQLResponse[] };
}

describe("query limits", () => {
  it("refuse an operation nested deeper than the limit with QUERY_TOO_COMPLEX, and run one at the limit", async () => {
    const strict = await createTestApp({ limits: { maxDepth: 4 } });
    try {
      const atLimit = await strict.gql(`{ customers(first: 1) { edges { node { externalId } } } }`); // depth 4
      ok(atLimit);
      const deeper = await strict.gql(`{ customers(first: 1) { edges { node { grants(first: 1) { totalCount } } } } }`); // depth 5
      expect(firstError(deeper).code).toBe("QUERY_TOO_COMPLEX");
      expect(deeper.errors![0]!.message).toMatch(/^Query depth limit of 4 exceeded, found 5/);
      expect(deeper.data ?? null).toBeNull();
    } finally {
      await strict.close();
    }
    // The default (12) lets a real dashboard query through.
    ok(
      await t.gql(
        `{ customers(first: 5) { edges { node { grants(first: 5) { edges { node { feature { key } customer { externalId } } } } } } } }`,
      ),
    );
  });

  it("refuse too many aliases, directives or tokens with QUERY_TOO_COMPLEX", async () => {
    const aliased = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: customer(externalId: "limits-1") { externalId }`).join(" ");
    const aliases = aliased(51);
    const tooManyAliases = await t.gql(`{ ${aliases} }`);
    expect(firstError(tooManyAliases).code).toBe("QUERY_TOO_COMPLEX");
    expect(tooManyAliases.errors![0]!.message).toMatch(/Aliases limit of 50 exceeded, found 51/);
    ok(await t.gql(`{ ${aliased(50)} }`));

    const directives = Array.from({ length: 21 }, () => `@include(if: true)`).join(" ");
    const tooManyDirectives = await t.gql(`{ __typename ${directives} }`);
    expect(firstError(tooManyDirectives).code).toBe("QUERY_TOO_COMPLEX");
    expect(tooManyDirectives.errors![0]!.message).toMatch(/Directives limit of 20 exceeded/);

    const tooManyTokens = await t.gql(`{ ${"__typename ".repeat(2001)} }`);
    expect(firstError(tooManyTokens).code).toBe("QUERY_TOO_COMPLEX");
    expect(tooManyTokens.errors![0]!.message).toMatch(/Token limit of 2000 exceeded/);
  });

  it("count list sizes: nested pages whose product is over the cost limit are refused before any SQL runs", async () => {
    const query = `query ($n: Int!, $m: Int!) { customers(first: $n) { edges { node { grants(first: $m) { edges { node { id usageLimit feature { key } } } } } } } }`;
    const before = sqlCounter.count;
    const expensive = await t.gql(query, { n: 100, m: 100 });
    expect(sqlCounter.count - before).toBe(0);
    expect(firstError(expensive).code).toBe("QUERY_TOO_COMPLEX");
    expect(expensive.errors![0]!.extensions).toMatchObject({ maxCost: 20_000 });
    expect(expensive.errors![0]!.extensions!.cost).toBeGreaterThan(20_000);
    // The same query with small pages runs: the variables, not the text, decide.
    ok(await t.gql(query, { n: 10, m: 10 }));
  });

  it("refuse fragments that double at each level with QUERY_TOO_COMPLEX, without a key and without SQL", async () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(" ");
    const before = sqlCounter.count;
    const bomb = await t.gql(`{ ...F0 } ${fragments} fragment F${levels} on Query { __typename }`, undefined, { key: null });
    expect(firstError(bomb).code).toBe("QUERY_TOO_COMPLEX");
    expect(bomb.errors![0]!.extensions!.cost).toBe(2 ** levels);
    expect(sqlCounter.count - before).toBe(0);
  });

  it("answer a page over 100 with VALIDATION_ERROR naming the argument, written inline or as a variable", async () => {
    const inline = await t.gql(`{ customers(first: 101) { totalCount } }`);
    expect(firstError(inline)).toEqual({ code: "VALIDATION_ERROR", field: "customers.first" });
    const nested = await t.gql(`query ($m: Int) { customers(first: 1) { edges { node { grants(last: $m) { totalCount } } } } }`, {
      m: 500,
    });
    expect(firstError(nested)).toEqual({ code: "VALIDATION_ERROR", field: "customers.edges.node.grants.last" });
    const byDefault = await t.gql(`query ($n: Int = 500) { customers(first: $n) { totalCount } }`);
    expect(firstError(byDefault)).toEqual({ code: "VALIDATION_ERROR", field: "customers.first" });
    ok(await t.gql(`{ customers(first: 100) { totalCount } }`));
  });

  it("refuse a body over the limit with 413, whether it declares its length or comes chunked", async () => {
    const small = await createTestApp({ limits: { maxBodyBytes: 2_000 } });
    try {
      const big = JSON.stringify({ query: `{ __typename }`, variables: { padding: "x".repeat(3_000) } });
      const declared = await post(small, big);
      expect(declared.status).toBe(413);
      expect(firstError(declared.json as GraphQLResponse).code).toBe("QUERY_TOO_COMPLEX");

      const bytes = new TextEncoder().encode(big);
      const chunked = await post(
        small,
        new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 500) controller.enqueue(bytes.slice(at, at + 500));
            controller.close();
          },
        }),
      );
      expect(chunked.status).toBe(413);
      expect(firstError(chunked.json as GraphQLResponse).code).toBe("QUERY_TOO_COMPLEX");

      // Under the limit, chunked or not, it runs.
      const fits = new TextEncoder().encode(JSON.stringify({ query: `{ __typename }` }));
      const stream = new ReadableStream({
        start: (controller) => {
          controller.enqueue(fits);
          controller.close();
        },
      });
      expect((await post(small, stream)).json).toEqual({ data: { __typename: "Query" } });
    } finally {
      await small.close();
    }
  });

  it("run up to 10 operations in one batched request and refuse 11", async () => {
    const operation = { query: `{ customer(externalId: "limits-1") { externalId } }` };
    const ten = await post(t, JSON.stringify(Array.from({ length: 10 }, () => operation)));
    expect(ten.status).toBe(200);
    expect(ten.json).toHaveLength(10);
    expect((ten.json as GraphQLResponse[]).every((result) => result.data?.customer?.externalId === "limits-1")).toBe(true);

    const eleven = await post(t, JSON.stringify(Array.from({ length: 11 }, () => operation)));
    expect(eleven.status).toBe(413);
    expect(firstError(eleven.json as GraphQLResponse).code).toBe("QUERY_TOO_COMPLEX");
  });
});

describe("introspection and GraphiQL switched off", () => {
  let closed: TestApp;
  beforeAll(async () => {
    closed = await createTestApp({ introspection: false, graphiql: false });
  });
  afterAll(() => closed.close());

  it("refuse __schema and __type, and suggest no field names, while __typename still answers", async () => {
    const schema = await closed.gql(`{ __schema { types { name } } }`);
    expect(firstError(schema).code).toBe("VALIDATION_ERROR");
    expect(schema.data ?? null).toBeNull();
    expect(firstError(await closed.gql(`{ __type(name: "Customer") { fields { name } } }`)).code).toBe("VALIDATION_ERROR");
    const typo = await closed.gql(`{ customerz(first: 1) { totalCount } }`);
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
    expect(ok(await closed.gql(`{ __typename }`))).toEqual({ __typename: "Query" });
    // On by default: the same questions answer.
    expect(ok(await t.gql(`{ __type(name: "Customer") { name } }`))).toEqual({ __type: { name: "Customer" } });
    expect((await t.gql(`{ customerz(first: 1) { totalCount } }`)).errors![0]!.message).toMatch(/Did you mean .*"customers"/);
  });

  it("serve no GraphiQL page to a browser", async () => {
    const page = (app: TestApp) => app.app.fetch("http://test/graphql", { headers: { accept: "text/html" } });
    expect((await (await page(t)).text()).toLowerCase()).toContain("graphiql");
    const response = await page(closed);
    expect((await response.text()).toLowerCase()).not.toContain("graphiql");
  });
});
