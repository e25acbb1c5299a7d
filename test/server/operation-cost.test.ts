import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { operationCost, PAGE_SIZE_LIMITS } from "../../src/limits/operation-cost.ts";
import { schema } from "../../src/schema/index.ts";

const costOf = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  operationCost(schema, parse(query), operationName, variables, PAGE_SIZE_LIMITS);

describe("operationCost", () => {
  it("counts each field once per object it is asked of", () => {
    expect(costOf(`{ customer(externalId: "a") { id externalId name } }`).cost).toBe(4);
    // customers 1; edges and node and two leaves per customer of the page.
    expect(costOf(`{ customers(first: 10) { totalCount edges { node { id externalId } } } }`).cost).toBe(1 + 10 * (1 + 1 + 1 + 2));
  });

  it("multiplies nested pages, from literals or variables, and uses 20 when neither first nor last is given", () => {
    const nested = `query ($n: Int, $m: Int) { customers(first: $n) { edges { node { grants(first: $m) { edges { node { id } } } } } } }`;
    const small = costOf(nested, { n: 2, m: 3 }).cost;
    const large = costOf(nested, { n: 20, m: 30 }).cost;
    expect(small).toBe(1 + 2 * (1 + 1 + 1 + 3 * (1 + 1 + 1)));
    expect(large).toBe(1 + 20 * (1 + 1 + 1 + 30 * (1 + 1 + 1)));
    expect(costOf(nested, {}).cost).toBe(1 + 20 * (1 + 1 + 1 + 20 * (1 + 1 + 1)));
  });

  it("takes a variable's default when the variable is not sent", () => {
    const query = `query ($n: Int = 500) { customers(first: $n) { totalCount } }`;
    expect(costOf(query, {})).toMatchObject({ cost: 1 + 500, oversizedPages: [{ field: "customers.first", value: 500 }] });
    expect(costOf(query, { n: 10 })).toMatchObject({ cost: 1 + 10, oversizedPages: [] });
  });

  it("follows fragments and inline fragments, and counts aliases of one field separately", () => {
    const viaFragment = costOf(
      `{ customers(first: 5) { ...page } } fragment page on CustomerConnection { edges { node { ... on Customer { id } } } }`,
    ).cost;
    const inline = costOf(`{ customers(first: 5) { edges { node { id } } } }`).cost;
    expect(viaFragment).toBe(inline);
    expect(costOf(`{ a: customers(first: 5) { totalCount } b: customers(first: 5) { totalCount } }`).cost).toBe(2 * (1 + 5));
  });

  it("costs a fragment once however often it is spread: fragments doubling at each of 60 levels cost 2^60, at once", () => {
    // Walking each spread again would take 2^60 steps: the test would never end.
    const levels = 60;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(" ");
    expect(costOf(`{ ...F0 } ${fragments} fragment F${levels} on Query { __typename }`).cost).toBe(2 ** levels);
  });

  it("sizes nodes(ids:) by the ids asked for, each costing what its selection costs, and reports lists over the limit", () => {
    expect(costOf(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: ["a", "b", "c"] }).cost).toBe(1 + 3);
    const query = `query ($ids: [ID!]!) { many: nodes(ids: $ids) { ... on Customer { grants(first: 10) { totalCount } } } }`;
    const { cost, oversizedIdLists } = operationCost(schema, parse(query), undefined, { ids: ["a", "b", "c"] }, PAGE_SIZE_LIMITS, 2);
    expect(cost).toBe(1 + 3 * (1 + 10 * 1));
    expect(oversizedIdLists).toEqual([{ field: "many.ids", value: 3 }]);
  });

  it("sizes recordUsages(records:) by the records sent: each answers with what its selection costs", () => {
    const query = `mutation ($records: [RecordUsageInput!]!) { recordUsages(records: $records) { recordedCount records { id customer { externalId } } } }`;
    const records = (n: number) => Array.from({ length: n }, () => ({ customer: { externalId: "a" }, featureKey: "f" }));
    expect(costOf(query, { records: records(1) }).cost).toBe(1 + 1 * (1 + 1 + 1 + 2));
    expect(costOf(query, { records: records(1000) }).cost).toBe(1 + 1000 * (1 + 1 + 1 + 2));
    expect(costOf(query, { records: [] }).cost).toBe(1);
  });

  it("reports pages over 100 by the path the client wrote, aliases included", () => {
    const { oversizedPages } = costOf(
      `query ($m: Int) { list: customers(first: 101) { edges { node { grants(last: $m) { totalCount } } } } }`,
      { m: 500 },
    );
    expect(oversizedPages).toEqual([
      { field: "list.first", value: 101 },
      { field: "list.edges.node.grants.last", value: 500 },
    ]);
    expect(costOf(`{ customers(first: 100) { totalCount } }`).oversizedPages).toEqual([]);
  });

  it("costs the named operation of several, and nothing for an unknown one", () => {
    const document = `query Small { customer(externalId: "a") { id } } query Big { customers(first: 50) { edges { node { id } } } }`;
    expect(costOf(document, {}, "Small").cost).toBe(2);
    expect(costOf(document, {}, "Big").cost).toBe(1 + 50 * 3);
    expect(costOf(document, {}, "Missing").cost).toBe(0);
  });
});
