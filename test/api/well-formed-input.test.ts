// Strings and dates no database can hold as sent: NUL, lone surrogates, impossible calendar
// dates. Each is refused with VALIDATION_ERROR naming the field (inside JSON: the path in
// it), and the refused mutation writes nothing. Dates the API computes past 9999 are answered
// as one it would accept back (docs/rules.md §5).
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp, firstError, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
let planId: string;

/** How many rows every table the mutations below write to holds. */
const rowCounts = async () => {
  const { prisma } = t.database;
  return {
    features: await prisma.feature.count(),
    plans: await prisma.plan.count(),
    customers: await prisma.customer.count(),
    subscriptions: await prisma.customerSubscription.count(),
    grants: await prisma.grant.count(),
    usage: await prisma.usageRecord.count(),
  };
};

beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "seats", type: "METERED" });
  await s.feature({ key: "tier", type: "STATIC" });
  planId = (await s.plan({ key: "pro", entitlements: { seats: { usageLimit: 10, resetPeriod: "MONTHLY" } } })).id;
  await s.customer("acme");
  await s.subscription("acme", { planId, startsAt: "2026-01-01T00:00:00Z" });
});

const NUL = "\u0000";
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udfff";

describe("NUL and lone surrogates are refused wherever a string comes in", () => {
  const customer = { externalId: "acme" };
  const cases: { name: string; mutation: string; inputType: string; input: Record<string, unknown>; field: string }[] = [
    {
      name: "createCustomer metadata value NUL",
      mutation: "createCustomer",
      inputType: "CreateCustomerInput",
      input: { externalId: "c1", metadata: { a: NUL } },
      field: "input.metadata.a",
    },
    {
      name: "createCustomer metadata key NUL",
      mutation: "createCustomer",
      inputType: "CreateCustomerInput",
      input: { externalId: "c1", metadata: { [`a${NUL}`]: 1 } },
      field: "input.metadata",
    },
    {
      name: "createCustomer metadata lone surrogate in a list",
      mutation: "createCustomer",
      inputType: "CreateCustomerInput",
      input: { externalId: "c1", metadata: { list: [1, "ok", LONE_LOW] } },
      field: "input.metadata.list.2",
    },
    {
      name: "createCustomer name lone surrogate (never stored as U+FFFD)",
      mutation: "createCustomer",
      inputType: "CreateCustomerInput",
      input: { externalId: "c1", name: `Acme ${LONE_HIGH}` },
      field: "input.name",
    },
    {
      name: "createCustomer externalId lone surrogate",
      mutation: "createCustomer",
      inputType: "CreateCustomerInput",
      input: { externalId: `c${LONE_LOW}` },
      field: "input.externalId",
    },
    {
      name: "createPlan metadata NUL",
      mutation: "createPlan",
      inputType: "CreatePlanInput",
      input: { key: "p1", name: "P1", metadata: { a: NUL } },
      field: "input.metadata.a",
    },
    {
      name: "createPlan description lone surrogate",
      mutation: "createPlan",
      inputType: "CreatePlanInput",
      input: { key: "p1", name: "P1", description: `x${LONE_HIGH}` },
      field: "input.description",
    },
    {
      name: "createGrant metadata NUL",
      mutation: "createGrant",
      inputType: "CreateGrantInput",
      input: { customer, featureKey: "seats", usageLimit: 1, metadata: { a: { b: NUL } } },
      field: "input.metadata.a.b",
    },
    {
      name: "createGrant reason lone surrogate",
      mutation: "createGrant",
      inputType: "CreateGrantInput",
      input: { customer, featureKey: "seats", usageLimit: 1, reason: LONE_LOW },
      field: "input.reason",
    },
    {
      name: "createGrant staticValue lone surrogate",
      mutation: "createGrant",
      inputType: "CreateGrantInput",
      input: { customer, featureKey: "tier", staticValue: `gold${LONE_HIGH}` },
      field: "input.staticValue",
    },
    {
      name: "createSubscription metadata NUL",
      mutation: "createSubscription",
      inputType: "CreateSubscriptionInput",
      input: { customer: { externalId: "acme" }, planId: "", metadata: { a: NUL } },
      field: "input.metadata.a",
    },
    {
      name: "createFeature level named with a lone surrogate",
      mutation: "createFeature",
      inputType: "CreateFeatureInput",
      input: { key: "f1", name: "F1", type: "STATIC", levels: [{ level: 1, name: LONE_HIGH, value: "a" }] },
      field: "input.levels.0.name",
    },
    {
      name: "createFeature level value lone surrogate",
      mutation: "createFeature",
      inputType: "CreateFeatureInput",
      input: { key: "f1", name: "F1", type: "STATIC", levels: [{ level: 1, name: "a", value: `v${LONE_LOW}` }] },
      field: "input.levels.0.value",
    },
    {
      name: "recordUsage idempotencyKey lone surrogate",
      mutation: "recordUsage",
      inputType: "RecordUsageInput",
      input: { customer, featureKey: "seats", quantity: 1, idempotencyKey: `k${LONE_HIGH}` },
      field: "input.idempotencyKey",
    },
  ];

  it.each(cases)("$name: VALIDATION_ERROR at $field, nothing written", async ({ mutation, inputType, input, field }) => {
    const withPlan = "planId" in input ? { ...input, planId } : input;
    const before = await rowCounts();
    const result = await t.gql(`mutation ($input: ${inputType}!) { ${mutation}(input: $input) { __typename } }`, { input: withPlan });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field });
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses a NUL written as a literal in the document too", async () => {
    const before = await rowCounts();
    const result = await t.gql(`mutation { createCustomer(input: { externalId: "c2", metadata: { a: "\\u0000" } }) { id } }`);
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field: "input.metadata.a" });
    expect(await rowCounts()).toEqual(before);
  });

  it("still stores text with characters outside the BMP (valid surrogate pairs) as sent", async () => {
    const name = "Rocket 🚀 𝔸";
    const created = ok(
      await t.gql(`mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { name } }`, {
        input: { externalId: "rocket", name },
      }),
    );
    expect(created.createCustomer.name).toBe(name);
  });
});

describe("lookups by a key that cannot exist", () => {
  it.each([
    ["plan(key:)", `query ($v: String!) { plan(key: $v) { id } }`, `a${NUL}`, "key"],
    ["feature(key:)", `query ($v: String!) { feature(key: $v) { id } }`, NUL, "key"],
    ["feature(key:) lone surrogate", `query ($v: String!) { feature(key: $v) { id } }`, LONE_LOW, "key"],
    ["customer(externalId:)", `query ($v: String!) { customer(externalId: $v) { id } }`, NUL, "externalId"],
    ["customer(externalId:) lone surrogate", `query ($v: String!) { customer(externalId: $v) { id } }`, LONE_HIGH, "externalId"],
    [
      "entitlement(featureKey:)",
      `query ($v: String!) { customer(externalId: "acme") { entitlement(featureKey: $v) { featureKey } } }`,
      `seats${NUL}`,
      "featureKey",
    ],
  ])("%s answers VALIDATION_ERROR naming the argument", async (_name, query, value, field) => {
    expect(firstError(await t.gql(query, { v: value }))).toEqual({ code: "VALIDATION_ERROR", field });
  });
});

describe("impossible calendar dates are refused, not rolled forward", () => {
  const impossible = [
    "2026-02-30T00:00:00Z",
    "2027-02-29T00:00:00Z",
    "2026-02-31T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-01-15T24:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-01-15T10:60:00Z",
    "2026-01-15T10:00:60Z",
    "2026-01-15T10:00:00+24:00",
  ];

  it.each(impossible)("createGrant effectiveAt %s: VALIDATION_ERROR at input.effectiveAt, nothing written", async (effectiveAt) => {
    const before = await rowCounts();
    const result = await t.gql(`mutation ($input: CreateGrantInput!) { createGrant(input: $input) { id } }`, {
      input: { customer: { externalId: "acme" }, featureKey: "seats", usageLimit: 1, effectiveAt },
    });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field: "input.effectiveAt" });
    expect(await rowCounts()).toEqual(before);
  });

  it("names the argument when the date is a literal of the document", async () => {
    const result = await t.gql(`{ customer(externalId: "acme") { entitlements(at: "2026-02-30T00:00:00Z") { featureKey } } }`);
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field: "at" });
  });

  it("keeps accepting valid RFC 3339: offsets, fractions, the leap day", async () => {
    const grant = ok(
      await t.gql(`mutation ($input: CreateGrantInput!) { createGrant(input: $input) { effectiveAt expiresAt } }`, {
        input: {
          customer: { externalId: "acme" },
          featureKey: "seats",
          usageLimit: 1,
          effectiveAt: "2028-02-29T23:30:00.123456789+02:30",
          expiresAt: "2028-03-01t00:00:00z",
        },
      }),
    );
    expect(grant.createGrant).toEqual({ effectiveAt: "2028-02-29T21:00:00.123Z", expiresAt: "2028-03-01T00:00:00.000Z" });
  });
});

describe("dates the API computes beyond 9999", () => {
  it("answers a period ending after 9999 with the last instant of 9999, which it accepts back", async () => {
    const at = "9999-12-31T23:59:59Z";
    const data = ok(
      await t.gql(
        `query ($at: DateTime!) { customer(externalId: "acme") { entitlement(featureKey: "seats", at: $at) { usage { periodStart periodEnd } } } }`,
        { at },
      ),
    );
    const usage = data.customer.entitlement.usage;
    expect(usage).toEqual({ periodStart: "9999-12-01T00:00:00.000Z", periodEnd: "9999-12-31T23:59:59.999Z" });
    const back = await t.gql(
      `query ($at: DateTime!) { customer(externalId: "acme") { entitlement(featureKey: "seats", at: $at) { featureKey } } }`,
      {
        at: usage.periodEnd,
      },
    );
    expect(back.errors).toBeUndefined();
  });
});
