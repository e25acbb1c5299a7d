// Customers through HTTP: created by the caller's own externalId, read by externalId or
// global ID, updated, searched, and paged both ways with consistent cursors and totalCount.
// (That another project sees none of them, and may reuse an externalId: test/api/tenancy.test.ts.)
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, ok, firstError, globalIdOf, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { waitUntil } from "../helpers/wait.ts";

let t: TestApp;
let key: string;
let projectId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ key, projectId } = await t.newProject("customers"));
});
afterAll(() => t.close());

const gql = (query: string, variables?: Record<string, unknown>, options: { key?: string } = {}) =>
  t.gql(query, variables, { key: options.key ?? key });

const CUSTOMER_FIELDS = `id externalId name email metadata createdAt updatedAt`;
const CREATE = `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { ${CUSTOMER_FIELDS} } }`;
const UPDATE = `mutation ($input: UpdateCustomerInput!) { updateCustomer(input: $input) { ${CUSTOMER_FIELDS} } }`;
const BY_EXTERNAL_ID = `query ($externalId: String!) { customer(externalId: $externalId) { ${CUSTOMER_FIELDS} } }`;
const BY_ID = `query ($id: ID!) { customer(id: $id) { ${CUSTOMER_FIELDS} } }`;
const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $search: String) {
  customers(first: $first, after: $after, last: $last, before: $before, search: $search) {
    totalCount
    edges { cursor node { externalId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { externalId: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}
const page = async (variables: Record<string, unknown>, options: { key?: string } = {}): Promise<Page> =>
  ok(await gql(PAGE, variables, options)).customers;
const externalIds = (p: Page) => p.edges.map((edge) => edge.node.externalId);

/** The customers of this file's project as stored: a failed mutation must leave them equal. */
const customerRows = () => t.database.prisma.customer.findMany({ where: { projectId }, orderBy: { id: "asc" } });
async function refusedWithoutWriting(query: string, variables?: Record<string, unknown>) {
  const before = await customerRows();
  const result = await gql(query, variables);
  expect(result.data ?? null).toBeNull();
  const after = await customerRows();
  expect(after.length).toBe(before.length);
  expect(after).toEqual(before);
  return result;
}

describe("creating, reading and updating", () => {
  let acme: { id: string; createdAt: string; updatedAt: string };

  it("creates a customer and reads it back by externalId and by id", async () => {
    const metadata = { plan: "legacy", seats: [1, 2, 3], nested: { vip: true, note: null, ratio: 0.25 }, ünïcødé: "✓ 日本" };
    const created = ok(
      await gql(CREATE, { input: { externalId: "cus_acme", name: "Acme Corp", email: "billing@acme.example", metadata } }),
    ).createCustomer;
    expect(created).toMatchObject({ externalId: "cus_acme", name: "Acme Corp", email: "billing@acme.example", metadata });
    expect(Date.parse(created.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    acme = created;

    expect(ok(await gql(BY_EXTERNAL_ID, { externalId: "cus_acme" })).customer).toEqual(created);
    expect(ok(await gql(BY_ID, { id: created.id })).customer).toEqual(created);
    const node = ok(await gql(`query ($id: ID!) { node(id: $id) { ... on Customer { externalId } } }`, { id: created.id })).node;
    expect(node).toEqual({ externalId: "cus_acme" });
    const stored = await t.database.prisma.customer.findFirstOrThrow({ where: { projectId, externalId: "cus_acme" } });
    expect(stored.metadata).toEqual(metadata);
  });

  it("creates with only an externalId: the rest is null", async () => {
    const bare = ok(await gql(CREATE, { input: { externalId: "cus_bare" } })).createCustomer;
    expect(bare).toMatchObject({ externalId: "cus_bare", name: null, email: null, metadata: null });
  });

  it("trims the externalId and name", async () => {
    const spaced = ok(await gql(CREATE, { input: { externalId: "  cus_spaced ", name: "  Spaced Ltd  " } })).createCustomer;
    expect(spaced).toMatchObject({ externalId: "cus_spaced", name: "Spaced Ltd" });
    expect(ok(await gql(BY_EXTERNAL_ID, { externalId: "cus_spaced" })).customer.id).toBe(spaced.id);
  });

  it("updates only the fields given; null clears name and email; metadata is replaced whole", async () => {
    // updatedAt has millisecond precision: let the clock pass it, or "later" cannot show.
    await waitUntil(() => Date.now() > Date.parse(acme.updatedAt));
    const renamed = ok(await gql(UPDATE, { input: { id: acme.id, name: "Acme Inc" } })).updateCustomer;
    expect(renamed).toMatchObject({
      id: acme.id,
      externalId: "cus_acme",
      name: "Acme Inc",
      email: "billing@acme.example",
      createdAt: acme.createdAt,
    });
    expect(renamed.metadata.plan).toBe("legacy");
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(Date.parse(acme.updatedAt));

    const remetadata = ok(await gql(UPDATE, { input: { id: acme.id, metadata: { plan: "current" } } })).updateCustomer;
    expect(remetadata).toMatchObject({ name: "Acme Inc", email: "billing@acme.example", metadata: { plan: "current" } });

    const cleared = ok(await gql(UPDATE, { input: { id: acme.id, email: null, name: null } })).updateCustomer;
    expect(cleared).toMatchObject({ name: null, email: null, metadata: { plan: "current" } });
    expect(ok(await gql(BY_EXTERNAL_ID, { externalId: "cus_acme" })).customer).toMatchObject({
      name: null,
      email: null,
      metadata: { plan: "current" },
    });

    const restored = ok(await gql(UPDATE, { input: { id: acme.id, name: "Acme Inc", email: "ops@acme.example" } })).updateCustomer;
    expect(restored).toMatchObject({ name: "Acme Inc", email: "ops@acme.example" });
  });

  it("an update that changes nothing answers the customer unchanged", async () => {
    const before = ok(await gql(BY_ID, { id: acme.id })).customer;
    const empty = await gql(UPDATE, { input: { id: acme.id } });
    expect(empty.errors).toBeUndefined();
    expect(empty.data.updateCustomer).toMatchObject({ id: acme.id, name: before.name, email: before.email, metadata: before.metadata });
  });

  it("refuses a duplicate externalId with ALREADY_EXISTS naming input.externalId, and writes nothing", async () => {
    const result = await refusedWithoutWriting(CREATE, { input: { externalId: "cus_acme", name: "Impostor" } });
    expect(firstError(result)).toEqual({ code: "ALREADY_EXISTS", field: "input.externalId" });
    expect(result.errors).toHaveLength(1);
    // After trimming it is the same externalId.
    expect(firstError(await refusedWithoutWriting(CREATE, { input: { externalId: " cus_acme " } }))).toEqual({
      code: "ALREADY_EXISTS",
      field: "input.externalId",
    });
  });

  it.each([
    ["not-an-email"],
    ["missing-domain@"],
    ["@missing-local.example"],
    ["two words@acme.example"],
    ["a@b"],
    ["x@y.example\n"],
    [`${"a".repeat(320)}@acme.example`],
  ])("refuses the email %j with VALIDATION_ERROR naming input.email, on create and on update", async (email) => {
    const created = await refusedWithoutWriting(CREATE, { input: { externalId: "cus_email", email } });
    expect(firstError(created)).toEqual({ code: "VALIDATION_ERROR", field: "input.email" });
    const updated = await refusedWithoutWriting(UPDATE, { input: { id: acme.id, name: "Changed", email } });
    expect(firstError(updated)).toEqual({ code: "VALIDATION_ERROR", field: "input.email" });
  });

  it.each([
    ["an empty externalId", { externalId: "" }, "input.externalId"],
    ["a blank externalId", { externalId: "   " }, "input.externalId"],
    ["an externalId of 256 characters", { externalId: "x".repeat(256) }, "input.externalId"],
    ["an externalId with a control character", { externalId: "cus\u0000nul" }, "input.externalId"],
    ["a name of 201 characters", { externalId: "cus_long", name: "n".repeat(201) }, "input.name"],
    ["a name with a control character", { externalId: "cus_ctl", name: "Acme\u0007" }, "input.name"],
    ["metadata that is a list", { externalId: "cus_list", metadata: [1, 2] }, undefined],
    ["metadata that is a string", { externalId: "cus_str", metadata: "x" }, undefined],
    ["metadata over 16 KiB", { externalId: "cus_big", metadata: { blob: "b".repeat(17_000) } }, undefined],
  ])("refuses %s with VALIDATION_ERROR, and writes nothing", async (_label, input, field) => {
    const result = await refusedWithoutWriting(CREATE, { input });
    expect(errorCodes(result)).toEqual(["VALIDATION_ERROR"]);
    if (field) expect(result.errors?.[0]?.extensions?.field).toBe(field);
  });

  it("accepts an externalId of 255 characters", async () => {
    const long = ok(await gql(CREATE, { input: { externalId: "L".repeat(255) } })).createCustomer;
    expect(long.externalId).toHaveLength(255);
    expect(ok(await gql(BY_EXTERNAL_ID, { externalId: "L".repeat(255) })).customer.id).toBe(long.id);
  });

  it("answers NOT_FOUND for an unknown externalId or id", async () => {
    expect(firstError(await gql(BY_EXTERNAL_ID, { externalId: "nobody" }))).toEqual({ code: "NOT_FOUND", field: "externalId" });
    expect(firstError(await gql(BY_ID, { id: globalIdOf("Customer", randomUUID()) }))).toEqual({ code: "NOT_FOUND", field: "id" });
    const unknownUpdate = await refusedWithoutWriting(UPDATE, { input: { id: globalIdOf("Customer", randomUUID()), name: "Ghost" } });
    expect(firstError(unknownUpdate)).toEqual({ code: "NOT_FOUND", field: "input.id" });
  });

  it("refuses lookups that are ambiguous or use another type's ID", async () => {
    expect(firstError(await gql(`{ customer { id } }`))).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    expect(firstError(await gql(`query ($id: ID!) { customer(id: $id, externalId: "cus_acme") { id } }`, { id: acme.id }))).toEqual({
      code: "VALIDATION_ERROR",
      field: "id",
    });
    const plan = await seed(t, key).plan({ key: "basic" });
    expect(firstError(await gql(BY_ID, { id: plan.id }))).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    expect(firstError(await refusedWithoutWriting(UPDATE, { input: { id: plan.id, name: "X" } }))).toEqual({
      code: "VALIDATION_ERROR",
      field: "input.id",
    });
  });
});

describe("searching and paging", () => {
  // A project of its own, so the counts below are exact.
  let listKey: string;
  // Created one request at a time, in this order: the list is oldest first.
  const all = ["cus_001", "cus_002", "zeta-3", "cus_004", "cus_005", "cus_006", "cus_007"];
  const details: Record<string, { name?: string; email?: string }> = {
    cus_001: { name: "Globex Corporation" },
    cus_002: { email: "ops@GLOBEX.example" },
    "zeta-3": { name: "Zeta", email: "zeta@initech.example" },
    cus_004: { name: "Initech" },
    cus_005: { name: "100% Organic" },
    cus_006: { name: "Under_score Ltd" },
    cus_007: { name: "Umbrella \\ Co" },
  };
  const list = (variables: Record<string, unknown>) => page(variables, { key: listKey });

  beforeAll(async () => {
    listKey = (await t.newProject("customers-list")).key;
    const s = seed(t, listKey);
    for (const externalId of all) await s.customer(externalId, details[externalId]);
  });

  it("lists every customer, oldest first, with totalCount", async () => {
    const everyone = await list({});
    expect(externalIds(everyone)).toEqual(all);
    expect(everyone.totalCount).toBe(7);
    expect(everyone.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expect(everyone.pageInfo.startCursor).toBe(everyone.edges[0]?.cursor);
    expect(everyone.pageInfo.endCursor).toBe(everyone.edges[6]?.cursor);
  });

  it("walks forward with first/after", async () => {
    const seen: string[] = [];
    const pages: Page[] = [];
    let after: string | null = null;
    do {
      const current: Page = await list({ first: 3, after });
      pages.push(current);
      seen.push(...externalIds(current));
      expect(current.totalCount).toBe(7);
      expect(current.pageInfo.startCursor).toBe(current.edges[0]?.cursor);
      expect(current.pageInfo.endCursor).toBe(current.edges.at(-1)?.cursor);
      after = current.pageInfo.hasNextPage ? current.pageInfo.endCursor : null;
    } while (after && pages.length < 10);

    expect(pages.map(externalIds)).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6)]);
    expect(seen).toEqual(all);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.map((p) => p.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
  });

  it("walks backward with last/before", async () => {
    const pages: Page[] = [];
    let before: string | null = null;
    do {
      const current: Page = await list({ last: 3, before });
      pages.push(current);
      expect(current.totalCount).toBe(7);
      expect(current.pageInfo.startCursor).toBe(current.edges[0]?.cursor);
      expect(current.pageInfo.endCursor).toBe(current.edges.at(-1)?.cursor);
      before = current.pageInfo.hasPreviousPage ? current.pageInfo.startCursor : null;
    } while (before && pages.length < 10);

    // Each page is still in list order; the pages come newest first.
    expect(pages.map(externalIds)).toEqual([all.slice(4), all.slice(1, 4), all.slice(0, 1)]);
    expect(pages.map((p) => p.pageInfo.hasPreviousPage)).toEqual([true, true, false]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([false, true, true]);
  });

  it("cursors are stable: the same customer has the same cursor forward and backward, and pages can turn around", async () => {
    const forward = await list({ first: 7 });
    const backward = await list({ last: 7 });
    expect(backward.edges.map((edge) => edge.cursor)).toEqual(forward.edges.map((edge) => edge.cursor));
    // Forward from the 3rd customer, then back from the 5th.
    const afterThird = await list({ first: 2, after: forward.edges[2]?.cursor });
    expect(externalIds(afterThird)).toEqual(["cus_004", "cus_005"]);
    const beforeFifth = await list({ last: 2, before: afterThird.pageInfo.endCursor });
    expect(externalIds(beforeFifth)).toEqual(["zeta-3", "cus_004"]);
    expect(beforeFifth.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    const pastTheEnd = await list({ first: 3, after: forward.pageInfo.endCursor });
    expect(pastTheEnd).toEqual({
      totalCount: 7,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
    });
  });

  it("searches externalId, name and email case-insensitively", async () => {
    const globex = await list({ search: "GlObEx" });
    expect(externalIds(globex)).toEqual(["cus_001", "cus_002"]);
    expect(globex.totalCount).toBe(2);
    const initech = await list({ search: "initech" });
    expect(externalIds(initech)).toEqual(["zeta-3", "cus_004"]);
    const byExternalId = await list({ search: "ZETA-" });
    expect(externalIds(byExternalId)).toEqual(["zeta-3"]);
    const trimmed = await list({ search: "  umbrella " });
    expect(externalIds(trimmed)).toEqual(["cus_007"]);
    expect(await list({ search: "no-such-customer" })).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
  });

  it("searches for %, _ and \\ literally, not as wildcards", async () => {
    expect(externalIds(await list({ search: "%" }))).toEqual(["cus_005"]);
    expect(externalIds(await list({ search: "100%" }))).toEqual(["cus_005"]);
    expect(externalIds(await list({ search: "r_s" }))).toEqual(["cus_006"]);
    // As a wildcard, "x_C" would match "Globex Corporation".
    expect(await list({ search: "x_C" })).toMatchObject({ totalCount: 0, edges: [] });
    // Every externalId but zeta-3 holds an underscore; as a wildcard "_" would match all 7.
    expect((await list({ search: "_" })).totalCount).toBe(6);
    expect(externalIds(await list({ search: "\\" }))).toEqual(["cus_007"]);
    expect(externalIds(await list({ search: "a \\ c" }))).toEqual(["cus_007"]);
  });

  it("pages through search results with totalCount counting the matches", async () => {
    const matches = all.filter((id) => id.startsWith("cus_"));
    const first = await list({ search: "CUS_", first: 4 });
    expect(externalIds(first)).toEqual(matches.slice(0, 4));
    expect(first).toMatchObject({ totalCount: 6, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
    const second = await list({ search: "CUS_", first: 4, after: first.pageInfo.endCursor });
    expect(externalIds(second)).toEqual(matches.slice(4));
    expect(second).toMatchObject({ totalCount: 6, pageInfo: { hasNextPage: false, hasPreviousPage: true } });
    const back = await list({ search: "CUS_", last: 4, before: second.pageInfo.startCursor });
    expect(externalIds(back)).toEqual(matches.slice(0, 4));
    expect(back).toMatchObject({ totalCount: 6, pageInfo: { hasPreviousPage: false, hasNextPage: true } });
  });

  it("refuses malformed or contradictory paging with VALIDATION_ERROR", async () => {
    for (const variables of [
      { first: -1 },
      { last: -2 },
      { first: 2, before: "x" },
      { first: 2, after: "not-a-cursor" },
      { after: "a", before: "b" },
      { search: "x".repeat(201) },
    ]) {
      const result = await gql(PAGE, variables, { key: listKey });
      expect({ variables, codes: errorCodes(result) }).toEqual({ variables, codes: ["VALIDATION_ERROR"] });
    }
  });
});

describe("page size", () => {
  let bigKey: string;

  beforeAll(async () => {
    const project = await t.newProject("customers-many");
    bigKey = project.key;
    await t.database.prisma.customer.createMany({
      data: Array.from({ length: 105 }, (_, index) => ({
        projectId: project.projectId,
        externalId: `bulk-${String(index).padStart(3, "0")}`,
      })),
    });
  });

  it("serves at most 100 a page: first or last above 100 is VALIDATION_ERROR naming the argument, and paging reaches the rest", async () => {
    for (const variables of [{ first: 101 }, { first: 1000 }, { last: 101 }]) {
      const refused = await gql(PAGE, variables, { key: bigKey });
      expect({ variables, error: firstError(refused) }).toEqual({
        variables,
        error: { code: "VALIDATION_ERROR", field: `customers.${Object.keys(variables)[0]}` },
      });
    }
    const full = await page({ first: 100 }, { key: bigKey });
    expect(full.edges).toHaveLength(100);
    expect(full).toMatchObject({ totalCount: 105, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
    const rest = await page({ first: 100, after: full.pageInfo.endCursor }, { key: bigKey });
    expect(rest.edges).toHaveLength(5);
    expect(rest).toMatchObject({ totalCount: 105, pageInfo: { hasNextPage: false } });
    expect(new Set([...externalIds(full), ...externalIds(rest)]).size).toBe(105);
    const last = await page({ last: 100 }, { key: bigKey });
    expect(last.edges).toHaveLength(100);
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  });

  it("defaults to 20 without first or last", async () => {
    const byDefault = await page({}, { key: bigKey });
    expect(byDefault.edges).toHaveLength(20);
    expect(byDefault).toMatchObject({ totalCount: 105, pageInfo: { hasNextPage: true } });
  });
});
