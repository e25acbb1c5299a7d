// Customers: created by the caller's own externalId, searched, and paged both ways.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, type GraphQLResponse, type TestApp } from "../helpers/app.ts";

let t: TestApp;
let key: string;
beforeAll(async () => {
  t = await createTestApp();
  key = (await t.newProject("customers")).key;
});
afterAll(() => t.close());

const gql = (query: string, variables?: Record<string, unknown>) => t.gql(query, variables, { key });
const ok = <T = any>(result: GraphQLResponse<T>): T => {
  expect(result.errors).toBeUndefined();
  return result.data as T;
};
const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $search: String) {
  customers(first: $first, after: $after, last: $last, before: $before, search: $search) {
    totalCount
    edges { cursor node { externalId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;
const ids = (page: { edges: { node: { externalId: string } }[] }) => page.edges.map((edge) => edge.node.externalId);

describe("customers", () => {
  it("creates, reads by externalId or id, and updates", async () => {
    const created = ok(await gql(`mutation {
      createCustomer(input: { externalId: "cus_1", name: "Acme", email: "billing@acme.example", metadata: { plan: "legacy", seats: [1, 2] } }) {
        id externalId name email metadata createdAt
      }
    }`)).createCustomer;
    expect(created).toMatchObject({ externalId: "cus_1", name: "Acme", email: "billing@acme.example", metadata: { plan: "legacy", seats: [1, 2] } });
    expect(ok(await gql(`query ($id: ID!) { customer(id: $id) { externalId } }`, { id: created.id })).customer.externalId).toBe("cus_1");
    const updated = ok(await gql(`mutation ($id: ID!) { updateCustomer(input: { id: $id, name: "Acme Inc" }) { name email } }`, { id: created.id }));
    expect(updated.updateCustomer).toEqual({ name: "Acme Inc", email: "billing@acme.example" });
    expect(ok(await gql(`{ customer(externalId: "cus_1") { name } }`)).customer.name).toBe("Acme Inc");
  });

  it("refuses duplicates, bad emails and unknown customers with the contract's codes", async () => {
    const duplicate = await gql(`mutation { createCustomer(input: { externalId: "cus_1" }) { id } }`);
    expect(errorCodes(duplicate)).toEqual(["ALREADY_EXISTS"]);
    expect(duplicate.errors?.[0]?.extensions?.field).toBe("input.externalId");
    const email = await gql(`mutation { createCustomer(input: { externalId: "cus_x", email: "not-an-email" }) { id } }`);
    expect(email.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION_ERROR", field: "input.email" });
    const metadata = await gql(`mutation { createCustomer(input: { externalId: "cus_x", metadata: [1, 2] }) { id } }`);
    expect(errorCodes(metadata)).toEqual(["VALIDATION_ERROR"]);
    expect(errorCodes(await gql(`{ customer(externalId: "nobody") { id } }`))).toEqual(["NOT_FOUND"]);
    expect(await t.database.prisma.customer.count({ where: { externalId: "cus_x" } })).toBe(0);
  });

  it("searches externalId, name and email, case-insensitively", async () => {
    ok(await gql(`mutation {
      a: createCustomer(input: { externalId: "cus_2", name: "Globex" }) { id }
      b: createCustomer(input: { externalId: "cus_3", email: "ops@GLOBEX.example" }) { id }
      c: createCustomer(input: { externalId: "globex-3", name: "Other" }) { id }
    }`));
    const page = ok(await gql(PAGE, { search: "globex" })).customers;
    expect(page.totalCount).toBe(3);
    expect(ids(page)).toEqual(["cus_2", "cus_3", "globex-3"]);
    expect(ok(await gql(PAGE, { search: "ACME" })).customers.totalCount).toBe(1);
  });

  it("pages forward and backward with consistent cursors and totalCount", async () => {
    for (let i = 4; i <= 7; i++) ok(await gql(`mutation ($e: String!) { createCustomer(input: { externalId: $e }) { id } }`, { e: `cus_${i}` }));
    const all = ["cus_1", "cus_2", "cus_3", "globex-3", "cus_4", "cus_5", "cus_6", "cus_7"];

    const first = ok(await gql(PAGE, { first: 3 })).customers;
    expect(ids(first)).toEqual(all.slice(0, 3));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.totalCount).toBe(8);
    const second = ok(await gql(PAGE, { first: 3, after: first.pageInfo.endCursor })).customers;
    expect(ids(second)).toEqual(all.slice(3, 6));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = ok(await gql(PAGE, { first: 3, after: second.pageInfo.endCursor })).customers;
    expect(ids(third)).toEqual(all.slice(6));
    expect(third.pageInfo.hasNextPage).toBe(false);
    expect(third.totalCount).toBe(8);

    const last = ok(await gql(PAGE, { last: 3 })).customers;
    expect(ids(last)).toEqual(all.slice(5));
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const before = ok(await gql(PAGE, { last: 3, before: last.pageInfo.startCursor })).customers;
    expect(ids(before)).toEqual(all.slice(2, 5));
    const start = ok(await gql(PAGE, { last: 3, before: before.pageInfo.startCursor })).customers;
    expect(ids(start)).toEqual(all.slice(0, 2));
    expect(start.pageInfo.hasPreviousPage).toBe(false);
    expect(start.edges[0].cursor).toBe(first.edges[0].cursor);
  });

  it("cuts pages at 100 and refuses contradictory or malformed paging", async () => {
    expect(ids(ok(await gql(PAGE, { first: 1000 })).customers)).toHaveLength(8);
    expect(errorCodes(await gql(PAGE, { first: -1 }))).toEqual(["VALIDATION_ERROR"]);
    expect(errorCodes(await gql(PAGE, { first: 2, before: "x" }))).toEqual(["VALIDATION_ERROR"]);
    expect(errorCodes(await gql(PAGE, { first: 2, after: "not-a-cursor" }))).toEqual(["VALIDATION_ERROR"]);
  });
});
