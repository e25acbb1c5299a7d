// Hostile input at every mutation: random and malformed values, generated from each
// mutation's own argument types (huge strings, control characters, non-finite and enormous
// numbers, negative quantities, inverted time windows, IDs of the wrong type or of another
// project, unknown enum values, deep JSON), sent as variables and as literals. Whatever
// comes, the answer is never INTERNAL_ERROR nor a 5xx, every error carries a contract code,
// and a refused mutation leaves every table exactly as it was.
import fc from "fast-check";
import { getNamedType, isObjectType, type GraphQLArgument } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { ErrorCode } from "../../src/errors.ts";
import { createTestApp, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { hostileCatalog, hostileString, hostileValues } from "../helpers/hostile-values.ts";

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

const { valueFor } = hostileValues((scalar) =>
  scalar === "ID" ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: hostileString }) : undefined,
);

const mutations = Object.values(schema.getMutationType()!.getFields());

/** A selection that asks for something of any result: its id when it has one, else __typename. */
const selectionOf = (name: string) => {
  const type = getNamedType(schema.getMutationType()!.getFields()[name]!.type);
  if (!isObjectType(type)) return "";
  return "id" in type.getFields() ? "{ id }" : "{ __typename }";
};

beforeAll(async () => {
  t = await createTestApp();
  ids.push(...(await hostileCatalog(t)).ids);
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
