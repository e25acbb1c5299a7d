// Hostile input at every mutation: random and malformed values, generated from each
// mutation's own argument types (huge strings, control characters, non-finite and enormous
// numbers, negative quantities, inverted time windows, IDs of the wrong type or of another
// project, unknown enum values, deep JSON), sent as variables and as literals. Whatever
// comes, the answer is never INTERNAL_ERROR nor a 5xx, every error carries a contract code,
// and a refused mutation leaves every table exactly as it was.
import fc from "fast-check";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { ErrorCode } from "../../src/errors.ts";
import { createTestApp, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

const RUNS_PER_MUTATION = Number(process.env.FUZZ_RUNS ?? 25);
const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));

let t: TestApp;
/** Global IDs a hostile client could send: its own objects', another project's, forged ones. */
const ids: string[] = [];
const tried = { cases: 0, refused: 0, accepted: 0, codes: {} as Record<string, number> };

/** Every table's content, hashed: a refused mutation must leave each one as it was. */
async function tableHashes(): Promise<Record<string, string>> {
  const tables = await t.database.prisma.$queryRawUnsafe<{ name: string }[]>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  const union = tables
    .map(
      ({ name }) =>
        `SELECT '${name}' AS name, count(*)::text || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS hash FROM "${name}" x`,
    )
    .join(" UNION ALL ");
  const rows = await t.database.prisma.$queryRawUnsafe<{ name: string; hash: string }[]>(union);
  return Object.fromEntries(rows.map((row) => [row.name, row.hash]));
}

/** Values a resolver accepts often enough that writes happen too, not only refusals. */
const plausibleString = fc.constantFrom("seats", "api-calls", "sso", "acme", "pro", "extra", "Acme Inc.", "ops@example.com", "gold");
const hostileString = fc.oneof(
  { weight: 4, arbitrary: plausibleString },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "\u0000",
      "\u0007\u001b[31m",
      "a\nb\r\n",
      '\'; DROP TABLE "Customer"; --',
      "%_\\",
      "🚀".repeat(50),
      "\u202e\u200b",
    ),
  },
  { weight: 1, arbitrary: fc.constant("x".repeat(100_000)) },
);
const hostileInt = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 1000 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)) },
);
const hostileFloat = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 1000, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1) },
);
const hostileDate = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.date({ min: new Date("0001-01-01"), max: new Date("9999-12-31"), noInvalidDate: true }).map((date) => date.toISOString()),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "2026-02-30T00:00:00Z",
      "yesterday",
      "1970-01-01",
      "2026-13-01T00:00:00Z",
      "+275760-09-13T00:00:00.000Z",
      "",
    ),
  },
  // Near now, so that start/end pairs are often inverted or empty windows.
  { weight: 4, arbitrary: fc.integer({ min: -86_400_000, max: 86_400_000 }).map((offset) => new Date(Date.now() + offset).toISOString()) },
);
const hostileJson = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant(JSON.parse("[".repeat(200) + "]".repeat(200))) },
);

/**
 * Values for `type`, mostly of the right GraphQL type (so that they pass coercion and reach
 * the resolvers, where hostile values matter), now and then of the wrong one.
 */
function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return arbitraryValueOf(type.ofType, depth);
  return fc.oneof({ weight: 12, arbitrary: arbitraryValueOf(type, depth) }, { weight: 1, arbitrary: fc.constant(null) });
}

function arbitraryValueOf(type: GraphQLInputType, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return arbitraryValueOf(type.ofType, depth);
  if (isListType(type)) return fc.array(valueFor(type.ofType, depth + 1), { maxLength: depth > 1 ? 2 : 5 });
  const named = getNamedType(type);
  const now = (arbitrary: fc.Arbitrary<unknown>) => fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: hostileString });
  if (isEnumType(named)) return now(fc.constantFrom(...named.getValues().map((value) => value.name)));
  if (isInputObjectType(named)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(named.getFields());
    // Required fields always come; the others now and then.
    return fc.record(Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, depth + 1)])), {
      requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name),
    });
  }
  switch (isScalarType(named) ? named.name : "") {
    case "String":
      return hostileString;
    case "Int":
      return fc.oneof({ weight: 9, arbitrary: hostileInt }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 1.5, 1e12) });
    case "Float":
      return hostileFloat;
    case "Boolean":
      return fc.oneof({ weight: 9, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom("true", 1) });
    case "ID":
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: hostileString });
    case "DateTime":
      return hostileDate;
    case "JSON":
      return hostileJson;
    default:
      return fc.constant(null);
  }
}

const mutations = Object.values(schema.getMutationType()!.getFields());

/** A selection that asks for something of any result: its id when it has one, else __typename. */
const selectionOf = (name: string) => {
  const type = getNamedType(schema.getMutationType()!.getFields()[name]!.type);
  if (!isObjectType(type)) return "";
  return "id" in type.getFields() ? "{ id }" : "{ __typename }";
};

/** The same few features, plans and a customer in a project (default: the first); their ids. */
async function catalogIn(key?: string) {
  const s = seed(t, key);
  const made = [
    await s.feature({ key: "seats", name: "Seats", type: "METERED" }),
    await s.feature({ key: "api-calls", name: "API calls", type: "METERED" }),
    await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" }),
    await s.plan({ key: "pro", name: "Pro" }),
    await s.plan({ key: "extra", name: "Extra", kind: "ADDON" }),
    await s.customer("acme"),
  ];
  return made.map((node) => node.id);
}

beforeAll(async () => {
  t = await createTestApp();
  const own = await catalogIn();
  const [seats, , , pro] = own as [string, string, string, string];
  const s = seed(t);
  await s.entitlement(pro, "seats", { usageLimit: 5 });
  const subscription = await s.subscription("acme", { planId: pro });
  const grant = await s.grant("acme", { featureKey: "api-calls", usageLimit: 10 });
  const foreign = await catalogIn((await t.newProject("hostile-other")).key);
  ids.push(...own, subscription.id, grant.id, ...foreign);
  // The wrong type: a feature's id presented as a plan's, and a well-formed id of nothing.
  ids.push(
    Buffer.from(`Plan:${Buffer.from(seats, "base64").toString().split(":")[1]}`).toString("base64"),
    Buffer.from("Customer:00000000-0000-0000-0000-000000000000").toString("base64"),
  );
});
afterAll(async () => {
  console.log(
    `hostile input: ${tried.cases} cases over ${mutations.length} mutations, ${tried.refused} refused (${JSON.stringify(tried.codes)}), ${tried.accepted} accepted`,
  );
  await t.close();
});

describe("hostile input", () => {
  it.each(mutations.map((mutation) => [mutation.name, mutation] as const))(
    "%s: never INTERNAL_ERROR nor 5xx, and a refusal writes nothing",
    async (name, mutation) => {
      const args: readonly GraphQLArgument[] = mutation.args;
      const variablesArbitrary = fc.record(Object.fromEntries(args.map((arg) => [arg.name, valueFor(arg.type)])));
      const declarations = args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(", ");
      const query = `mutation Hostile${declarations ? `(${declarations})` : ""} { ${name}${args.length ? `(${args.map((arg) => `${arg.name}: $${arg.name}`).join(", ")})` : ""} ${selectionOf(name)} }`;
      await fc.assert(
        fc.asyncProperty(variablesArbitrary, async (variables) => {
          const before = await tableHashes();
          const response = await t.app.fetch("http://test/graphql", {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${t.adminKey}` },
            body: JSON.stringify({ query, variables }),
          });
          const body = (await response.json()) as GraphQLResponse;
          tried.cases++;
          expect(response.status).toBeLessThan(500);
          const codes = (body.errors ?? []).map((error) => error.extensions?.code);
          for (const code of codes) expect(CONTRACT_CODES.has(code!), `unknown code ${code}`).toBe(true);
          expect(codes).not.toContain("INTERNAL_ERROR");
          expect(codes).not.toContain("SERVICE_UNAVAILABLE");
          if (body.errors?.length) {
            tried.refused++;
            tried.codes[codes[0]!] = (tried.codes[codes[0]!] ?? 0) + 1;
            expect(await tableHashes()).toEqual(before);
          } else {
            tried.accepted++;
          }
        }),
        { numRuns: RUNS_PER_MUTATION, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
      );
    },
  );

  it("refuses non-finite and out-of-range numbers written as literals with VALIDATION_ERROR", async () => {
    for (const literal of ["1e309", "-1e309", "NaN", "Infinity", "99999999999999999999"]) {
      const before = await tableHashes();
      const result = await t.gql(
        `mutation { recordUsage(input: { customer: { externalId: "acme" }, featureKey: "api-calls", quantity: ${literal} }) { id } }`,
      );
      expect({ literal, code: result.errors?.[0]?.extensions?.code }).toEqual({ literal, code: "VALIDATION_ERROR" });
      expect(await tableHashes()).toEqual(before);
    }
  });
});
