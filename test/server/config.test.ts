import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";

describe("configuration of what a request may ask", () => {
  it("keeps the defaults for unset limits and takes the ones set", () => {
    expect(loadConfig({}).limits).toEqual({});
    expect(
      loadConfig({ GRAPHQL_MAX_DEPTH: "8", GRAPHQL_MAX_COST: "5000", GRAPHQL_MAX_BODY_BYTES: "65536", GRAPHQL_MAX_NODE_IDS: "25" }).limits,
    ).toEqual({
      maxDepth: 8,
      maxCost: 5000,
      maxBodyBytes: 65536,
      maxNodeIds: 25,
    });
    expect(loadConfig({}).batchLimit).toBe(10);
    expect(loadConfig({ GRAPHQL_BATCH_LIMIT: "0" }).batchLimit).toBe(0);
  });

  it("switches introspection and GraphiQL off in production unless asked for, and on elsewhere", () => {
    expect(loadConfig({})).toMatchObject({ introspection: true, graphiql: true });
    expect(loadConfig({ NODE_ENV: "production" })).toMatchObject({ introspection: false, graphiql: false });
    expect(loadConfig({ NODE_ENV: "production", GRAPHIQL: "true", GRAPHQL_INTROSPECTION: "yes" })).toMatchObject({
      introspection: true,
      graphiql: true,
    });
    expect(loadConfig({ GRAPHQL_INTROSPECTION: "false" })).toMatchObject({ introspection: false, graphiql: true });
  });

  it("names the variable of a value it cannot take", () => {
    expect(() => loadConfig({ GRAPHQL_MAX_DEPTH: "0" })).toThrow(/GRAPHQL_MAX_DEPTH/);
    expect(() => loadConfig({ GRAPHQL_MAX_COST: "lots" })).toThrow(/GRAPHQL_MAX_COST/);
    expect(() => loadConfig({ GRAPHIQL: "maybe" })).toThrow(/GRAPHIQL/);
  });
});
