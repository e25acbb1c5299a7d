// Errors speak the contract's codes; unexpected failures leak nothing and are logged.
import { PGlite } from "@electric-sql/pglite";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, databaseKind, errorCodes, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { openDatabase } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { createProjectWithAdminKey } from "../../src/auth/projects.ts";
import { createApp } from "../../src/yoga.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("bad input", () => {
  it("a variable of the wrong type is a VALIDATION_ERROR", async () => {
    const result = await t.gql(`query ($first: Int) { features(first: $first) { totalCount } }`, { first: "ten" });
    expect(errorCodes(result)).toEqual(["VALIDATION_ERROR"]);
  });

  it("a syntax error or an unknown field is a VALIDATION_ERROR", async () => {
    expect(errorCodes(await t.gql(`{ features { totalCount `))).toEqual(["VALIDATION_ERROR"]);
    expect(errorCodes(await t.gql(`{ features { nope } }`))).toEqual(["VALIDATION_ERROR"]);
  });

  it("an operation of a batch that cannot be parsed is a VALIDATION_ERROR in its place, beside the others' answers", async () => {
    const response = await t.app.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminKey}` },
      body: JSON.stringify([{ query: `{ features { totalCount ` }, { query: `{ features { totalCount } }` }, { query: `{ nope }` }]),
    });
    const results = (await response.json()) as GraphQLResponse[];
    expect(results.map(errorCodes)).toEqual([["VALIDATION_ERROR"], [], ["VALIDATION_ERROR"]]);
    expect(results[1]?.data?.features?.totalCount).toBeTypeOf("number");
  });

  it("a malformed DateTime is a VALIDATION_ERROR", async () => {
    const result = await t.gql(`mutation { cancelSubscription(input: { subscriptionId: "x", at: "yesterday" }) { id } }`);
    expect(errorCodes(result)).toEqual(["VALIDATION_ERROR"]);
  });

  it("an ID of the wrong type names the field", async () => {
    const customer = await seed(t).customer("c-1");
    const result = await t.gql(`mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: customer.id });
    expect(errorCodes(result)).toEqual(["VALIDATION_ERROR"]);
    expect(result.errors?.[0]?.extensions?.field).toBe("id");
    expect(result.errors?.[0]?.message).toMatch(/Plan ID/);
  });

  it("a malformed global ID is a VALIDATION_ERROR, a well-formed unknown one NOT_FOUND, never an internal error", async () => {
    const node = (id: string) => t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id });
    expect(errorCodes(await node("garbage"))).toEqual(["VALIDATION_ERROR"]);
    const unknownFeature = Buffer.from("Feature:0190a0b1-0000-7000-8000-000000000000").toString("base64");
    expect(errorCodes(await node(unknownFeature))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await node(Buffer.from("Feature:not-a-uuid").toString("base64")))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await node(Buffer.from("Nope:1").toString("base64")))).not.toContain("INTERNAL_ERROR");
  });
});

describe.skipIf(databaseKind !== "pglite")("unexpected failures", () => {
  it("answer INTERNAL_ERROR with a request id and no SQL, and are logged with that id", async () => {
    const lines: string[] = [];
    const log = pino(
      { level: "error" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const database = openDatabase({ kind: "pglite", instance: new PGlite() });
    await applyMigrations(database);
    const { secret } = await createProjectWithAdminKey(database.prisma, "broken");
    // Break the storage under the app: the query fails in a way no resolver expects.
    await database.prisma.$executeRawUnsafe(`ALTER TABLE "Customer" RENAME TO "CustomerGone"`);
    const app = createApp({ database, log, isReady: async () => ({ ready: true }) });
    const response = await app.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}`, "x-request-id": "req-test-123456" },
      body: JSON.stringify({ query: `{ customers { totalCount } }` }),
    });
    const body = await response.json();
    expect(response.headers.get("x-request-id")).toBe("req-test-123456");
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toEqual({ code: "INTERNAL_ERROR", requestId: "req-test-123456" });
    expect(JSON.stringify(body)).not.toMatch(/CustomerGone|SELECT|relation "|prisma|\.ts:\d+/i);
    const logged = lines.map((line) => JSON.parse(line));
    expect(logged.some((entry) => entry.requestId === "req-test-123456" && /Customer/.test(JSON.stringify(entry.err)))).toBe(true);
    await database.close();
  });
});
