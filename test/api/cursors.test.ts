// Connection cursors a client forged: every connection refuses a cursor it did not issue with
// VALIDATION_ERROR naming `after` or `before`, whether the cursor is garbage or decodes to a
// value of the wrong kind (a string that is no id, a number, JSON, a date).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getNamedType, isObjectType } from "graphql";
import { schema } from "../../src/schema/index.ts";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "seats", type: "METERED" });
  const plan = await s.plan({ key: "team", entitlements: { seats: { usageLimit: 5 } } });
  await s.customer("acme");
  await s.subscription("acme", { planId: plan.id });
  ok(await t.gql(`mutation { createWebhookEndpoint(input: { url: "https://93.184.215.14/hooks" }) { signingSecret } }`));
});
afterAll(() => t.close());

/** Every connection of the schema, as `Type.field`, with a query reaching it given its arguments. */
const CONNECTIONS: Record<string, (args: string) => string> = {
  "Query.customers": (args) => `{ customers(${args}) { totalCount } }`,
  "Query.features": (args) => `{ features(${args}) { totalCount } }`,
  "Query.plans": (args) => `{ plans(${args}) { totalCount } }`,
  "Customer.subscriptions": (args) => `{ customer(externalId: "acme") { subscriptions(${args}) { totalCount } } }`,
  "Customer.grants": (args) => `{ customer(externalId: "acme") { grants(${args}) { totalCount } } }`,
  "Plan.subscriptions": (args) => `{ plan(key: "team") { subscriptions(${args}) { totalCount } } }`,
  "Feature.plans": (args) => `{ feature(key: "seats") { plans(${args}) { totalCount } } }`,
  "Query.webhookEndpoints": (args) => `{ webhookEndpoints(${args}) { totalCount } }`,
  "WebhookEndpoint.deliveries": (args) => `{ webhookEndpoints(first: 1) { edges { node { deliveries(${args}) { totalCount } } } } }`,
  "Query.auditLog": (args) => `{ auditLog(${args}) { totalCount } }`,
};

const base64 = (text: string) => Buffer.from(text).toString("base64");
const FORGED = {
  "a string that is no id": base64("GPC:S:notauuid"),
  "a number": base64("GPC:N:12"),
  JSON: base64('GPC:J:{"a":1}'),
  "an object": base64('GPC:O:{"a":1}'),
  "a date": base64("GPC:D:123"),
  "a tuple": base64("GPC:T:[]"),
  "an id of the wrong case of tag": base64("GPC:s:0190a0b1-0000-7000-8000-000000000000"),
  garbage: "not-a-cursor",
};

describe("forged cursors", () => {
  it("the list above is every connection of the schema", () => {
    const withCursors = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .filter((type) => !type.name.startsWith("__"))
      .flatMap((type) =>
        Object.values(type.getFields())
          // The event log's connection pages by event ids, checked as such (test/api/event-log.test.ts).
          .filter((field) => !field.extensions?.ownCursors)
          .filter((field) => field.args.some((arg) => arg.name === "after") && getNamedType(field.type).name.endsWith("Connection"))
          .map((field) => `${type.name}.${field.name}`),
      );
    expect(withCursors.sort()).toEqual(Object.keys(CONNECTIONS).sort());
  });

  it("each connection still pages with the cursors it issued", async () => {
    const page = ok(await t.gql(`{ customers(first: 1) { pageInfo { endCursor } } }`)).customers;
    const next = await t.gql(`query ($after: String) { customers(first: 1, after: $after) { totalCount } }`, {
      after: page.pageInfo.endCursor,
    });
    expect(next.errors).toBeUndefined();
  });

  for (const [connection, query] of Object.entries(CONNECTIONS)) {
    it(`${connection} answers VALIDATION_ERROR naming after/before, as a variable and as a literal`, async () => {
      const answers: unknown[] = [];
      const expected: unknown[] = [];
      for (const [kind, cursor] of Object.entries(FORGED)) {
        for (const [argument, size] of [
          ["after", "first"],
          ["before", "last"],
        ] as const) {
          const asVariable = await t.gql(`query ($cursor: String) ${query(`${size}: 2, ${argument}: $cursor`)}`, { cursor });
          const asLiteral = await t.gql(query(`${size}: 2, ${argument}: ${JSON.stringify(cursor)}`));
          for (const [sent, result] of [
            ["variable", asVariable],
            ["literal", asLiteral],
          ] as const) {
            const errors = result.errors?.map((error) => ({ code: error.extensions?.code, field: error.extensions?.field }));
            answers.push({ kind, argument, sent, errors });
            expected.push({ kind, argument, sent, errors: [{ code: "VALIDATION_ERROR", field: argument }] });
          }
        }
      }
      expect(answers).toEqual(expected);
    });
  }
});
