// Hostile values for any argument of the schema, generated from its input types (huge
// strings, control characters, non-finite and enormous numbers, inverted time windows, IDs
// of the wrong type or of another project, unknown enum values, deep JSON), and the catalog
// they aim at: the fuzzes of test/api (hostile-input, grammar-fuzz) share both.
import fc from "fast-check";
import { getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLInputType } from "graphql";
import { globalIdOf, type TestApp } from "./app.ts";
import { seed } from "./seed.ts";

/** Values a resolver accepts often enough that writes happen too, not only refusals. */
const plausibleString = fc.constantFrom("seats", "api-calls", "sso", "acme", "pro", "extra", "Acme Inc.", "ops@example.com", "gold");
export const hostileString = fc.oneof(
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
/**
 * Numbers on both sides of the API's bounds (a limit ≤ 1e15, a quantity of seats ≤ 1e6, of
 * usage |q| ≤ 1e12) and of 2^31 and 2^53, so that a limit times a quantity, or a sum of
 * sources, passes both.
 */
export const boundaryNumbers = [
  0.5,
  999_999,
  1_000_000,
  1_000_001,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 + 1,
  3e9,
  5e9,
  1e12,
  1e12 + 1,
  2 ** 50,
  1e15 - 1,
  1e15,
  1e15 + 1,
  1.5e15,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
];
const boundaryNumber = fc.constantFrom(...boundaryNumbers, ...boundaryNumbers.map((n) => -n));
const hostileInt = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 1000 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)) },
  { weight: 1, arbitrary: boundaryNumber },
);
const hostileFloat = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 1000, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1) },
  { weight: 2, arbitrary: boundaryNumber },
);
export const hostileDate = fc.oneof(
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

/** The values of each scalar, given the standard ones; a fuzz replaces some (ID always: it knows the ids that exist). */
export type ScalarValues = (scalar: string, standard: fc.Arbitrary<unknown>) => fc.Arbitrary<unknown> | undefined;

const defaultScalars = (scalar: string): fc.Arbitrary<unknown> | undefined => {
  switch (scalar) {
    case "String":
      return hostileString;
    case "Int":
      return fc.oneof({ weight: 9, arbitrary: hostileInt }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 1.5, 1e12) });
    case "Float":
      return hostileFloat;
    case "Boolean":
      return fc.oneof({ weight: 9, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom("true", 1) });
    case "DateTime":
      return hostileDate;
    case "JSON":
      return hostileJson;
    default:
      return undefined;
  }
};

/**
 * Values for an input type, mostly of the right GraphQL type (so that they pass coercion and
 * reach the resolvers, where hostile values matter), now and then of the wrong one.
 * `scalars` is asked first, then the defaults above.
 */
export function hostileValues(scalars: ScalarValues) {
  const scalar = (name: string) => {
    const standard = defaultScalars(name) ?? fc.constant(null);
    return scalars(name, standard) ?? standard;
  };

  function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
    if (isNonNullType(type)) return arbitraryValueOf(type.ofType, depth);
    return fc.oneof({ weight: 12, arbitrary: arbitraryValueOf(type, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  }

  function arbitraryValueOf(type: GraphQLInputType, depth: number): fc.Arbitrary<unknown> {
    if (isNonNullType(type)) return arbitraryValueOf(type.ofType, depth);
    if (isListType(type)) return fc.array(valueFor(type.ofType, depth + 1), { maxLength: depth > 1 ? 2 : 5 });
    const named = getNamedType(type);
    const now = (arbitrary: fc.Arbitrary<unknown>) => fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: scalar("String") });
    if (isEnumType(named)) return now(fc.constantFrom(...named.getValues().map((value) => value.name)));
    if (isInputObjectType(named)) {
      if (depth > 3) return fc.constant({});
      const fields = Object.values(named.getFields());
      // Required fields always come; the others now and then.
      return fc.record(Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, depth + 1)])), {
        requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name),
      });
    }
    return scalar(isScalarType(named) ? named.name : "");
  }

  return { valueFor };
}

/** The same few features, plans and a customer in a project; their ids. */
async function catalogIn(t: TestApp, key: string) {
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

/** The uuid inside a global ID. */
export const uuidOf = (globalId: string) => Buffer.from(globalId, "base64").toString().split(":")[1]!;

/**
 * A catalog in the project of `key` (a customer "acme" on plan "pro" with a grant), the same
 * catalog in another project, and the global IDs a hostile client could send: its own
 * objects', the other project's, a feature's id presented as a plan's, a well-formed id of
 * nothing.
 */
export async function hostileCatalog(t: TestApp, key = t.adminKey) {
  const own = await catalogIn(t, key);
  const [seats, , , pro] = own as [string, string, string, string];
  const s = seed(t, key);
  await s.entitlement(pro, "seats", { usageLimit: 5 });
  const subscription = await s.subscription("acme", { planId: pro });
  const grant = await s.grant("acme", { featureKey: "api-calls", usageLimit: 10 });
  const foreign = await catalogIn(t, (await t.newProject("hostile-other")).key);
  const ids = [...own, subscription.id, grant.id, ...foreign];
  ids.push(globalIdOf("Plan", uuidOf(seats)), globalIdOf("Customer", "00000000-0000-0000-0000-000000000000"));
  return { ids, own: [...own, subscription.id, grant.id], foreign };
}
