// Hostile input at every mutation: random and malformed values, generated from each
// mutation's own argument types (huge strings, control characters, non-finite and enormous
// numbers, negative quantities, inverted time windows, IDs of the wrong type or of another
// project, unknown enum values, deep JSON), sent as variables and as literals. Whatever
// comes, the answer is never INTERNAL_ERROR nor a 5xx, every error carries a contract code,
// and a refused mutation leaves every table exactly as it was. Then big numbers in
// combination: random sequences of limits, seats, add-ons, overrides, grants, usage, checks
// and consumption around the API's bounds, whose products and sums pass 2^31 and 2^53,
// held against a model of the rules (docs/rules.md §1, §4, §5).
import fc from "fast-check";
import { getNamedType, isObjectType, type GraphQLArgument } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { ErrorCode } from "../../src/errors.ts";
import { createTestApp, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { boundaryNumbers, hostileCatalog, hostileString, hostileValues } from "../helpers/hostile-values.ts";
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
    .map(({ name }) =>
      // The event log only grows (by a sequence): its count and last id show an append, without
      // hashing every event of the run's shared database twice per case.
      name === "LoggedEvent"
        ? `SELECT '${name}' AS name, count(*)::text || ':' || coalesce(max(x.id)::text, '') AS hash FROM "${name}" x`
        : `SELECT '${name}' AS name, count(*)::text || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS hash FROM "${name}" x`,
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

// ---------------------------------------------------------------------------------------
// Big numbers in combination

const BIG_RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const MAX_LIMIT = 1e15;
const MAX_SEATS = 1_000_000;
const MAX_USAGE = 1e12;

/** Values a field takes (integers and quarters: sums of them are exact below 2^50) mixed with the shared boundary numbers. */
const around = (...taken: number[]) =>
  fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...taken) }, { weight: 1, arbitrary: fc.constantFrom(...boundaryNumbers, -1, 0) });
const limitValue = around(0, 0.5, 2.75, 3e9, 5e9, 2 ** 31 - 1, 2 ** 32 + 1, 1e12, 2 ** 49, 1e15 - 1, 1e15);
const seatsValue = around(1, 2, 1000, 999_999, MAX_SEATS);
const usageValue = around(1, -1, 0.5, 5e11, 1e12, -1e12, 2 ** 31, 2 ** 32 + 1);

type Operation =
  | { kind: "planLimit"; plan: "pro" | "extra"; limit: number }
  | { kind: "subscribe"; seats: number; addonSeats: number | null }
  | { kind: "override"; subscription: number; limit: number }
  | { kind: "grant"; limit: number }
  | { kind: "usage"; quantity: number }
  | { kind: "check"; quantity: number }
  | { kind: "consume"; quantity: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant("planLimit" as const), plan: fc.constantFrom("pro" as const, "extra" as const), limit: limitValue }),
  fc.record({ kind: fc.constant("subscribe" as const), seats: seatsValue, addonSeats: fc.option(seatsValue) }),
  fc.record({ kind: fc.constant("override" as const), subscription: fc.nat(3), limit: limitValue }),
  fc.record({ kind: fc.constant("grant" as const), limit: limitValue }),
  fc.record({ kind: fc.constant("usage" as const), quantity: usageValue }),
  fc.record({ kind: fc.constant("check" as const), quantity: usageValue }),
  fc.record({ kind: fc.constant("consume" as const), quantity: usageValue }),
);

const limitOk = (limit: number) => limit >= 0 && limit <= MAX_LIMIT;
const seatsOk = (seats: number) => Number.isInteger(seats) && seats >= 1 && seats <= MAX_SEATS;

/** What the rules say of one customer's `api-calls`: the sources' contributions and the usage. */
class Model {
  plan: { pro?: number; extra?: number } = {};
  subscriptions: { id: string; seats: number; addonSeats: number | null; override?: number }[] = [];
  grants: number[] = [];
  used = 0;

  contributions(): number[] {
    const { pro, extra } = this.plan;
    return [
      ...this.subscriptions.flatMap((s) => [
        ...(s.override !== undefined ? [s.override * s.seats] : pro !== undefined ? [pro * s.seats] : []),
        ...(s.addonSeats !== null && extra !== undefined ? [extra * s.addonSeats] : []),
      ]),
      ...this.grants,
    ];
  }

  limit = () => this.contributions().reduce((sum, contribution) => sum + contribution, 0);

  /** checkEntitlement's answer: a hard limit everywhere. */
  decide(quantity: number): string {
    if (this.contributions().length === 0) return "NOT_ENTITLED";
    return this.used + quantity > this.limit() ? "LIMIT_EXCEEDED" : "ENTITLED";
  }
}

/** The fields of `op` whose values the rules refuse, as the API names them (empty: it must be taken). */
function refusedFields(op: Operation): string[] {
  switch (op.kind) {
    case "planLimit":
    case "override":
    case "grant":
      return limitOk(op.limit) ? [] : ["input.usageLimit"];
    case "subscribe":
      return [
        ...(seatsOk(op.seats) ? [] : ["input.quantity"]),
        ...(op.addonSeats === null || seatsOk(op.addonSeats) ? [] : ["input.addons.0.quantity"]),
      ];
    case "usage":
      return Math.abs(op.quantity) <= MAX_USAGE ? [] : ["input.quantity"];
    case "check":
      return op.quantity >= 0 && op.quantity <= MAX_USAGE ? [] : ["quantity"];
    case "consume":
      return op.quantity > 0 && op.quantity <= MAX_USAGE ? [] : ["input.quantity"];
  }
}

/** The field an error names: its `field`, or the path a refused variable's message quotes (`at "input.addons[0].quantity"`). */
const namedField = (error: NonNullable<GraphQLResponse["errors"]>[number]) =>
  error.extensions?.field ?? / at "([^"]+)"/.exec(error.message)?.[1]?.replace(/\[(\d+)\]/g, ".$1");

const BIG_ENTITLEMENT = `{ customer(externalId: "acme") { entitlement(featureKey: "api-calls") {
  usageLimit isUnlimited hasAccess usage { used remaining } sources { usageLimit isEnabled } } } }`;

/**
 * The request for `op`, its input sent whole as a variable; undefined when it needs a
 * subscription and there is none. Every value resets NEVER: whichever source anchors the
 * usage period, it holds all usage, as the model counts it.
 */
function requestFor(op: Operation, model: Model, ids: { pro: string; extra: string }) {
  const mutation = (field: string, inputType: string, input: Record<string, unknown>, selection = "__typename") => ({
    query: `mutation ($input: ${inputType}!) { ${field}(input: $input) { ${selection} } }`,
    variables: { input },
  });
  const customer = { externalId: "acme" };
  const featureKey = "api-calls";
  switch (op.kind) {
    case "planLimit":
      return mutation("setPlanEntitlement", "SetPlanEntitlementInput", {
        planId: ids[op.plan],
        featureKey,
        usageLimit: op.limit,
        resetPeriod: "NEVER",
      });
    case "subscribe":
      return mutation(
        "createSubscription",
        "CreateSubscriptionInput",
        {
          customer,
          planId: ids.pro,
          quantity: op.seats,
          addons: op.addonSeats === null ? [] : [{ addonId: ids.extra, quantity: op.addonSeats }],
        },
        "id",
      );
    case "override": {
      const subscription = model.subscriptions[op.subscription % Math.max(1, model.subscriptions.length)];
      if (!subscription) return undefined;
      return mutation("setSubscriptionOverride", "SetSubscriptionOverrideInput", {
        subscriptionId: subscription.id,
        featureKey,
        usageLimit: op.limit,
        resetPeriod: "NEVER",
      });
    }
    case "grant":
      return mutation("createGrant", "CreateGrantInput", { customer, featureKey, usageLimit: op.limit, resetPeriod: "NEVER" });
    case "usage":
      return mutation("recordUsage", "RecordUsageInput", { customer, featureKey, quantity: op.quantity });
    case "check":
      return {
        query: `query ($quantity: Float) { checkEntitlement(customer: { externalId: "acme" }, featureKey: "api-calls", quantity: $quantity) { reason } }`,
        variables: { quantity: op.quantity },
      };
    case "consume":
      return mutation("consumeEntitlement", "ConsumeInput", { customer, featureKey, quantity: op.quantity }, "reason");
  }
}

/** What a taken `op` changes in the model, given its answer. */
function apply(op: Operation, model: Model, data: Record<string, any>) {
  switch (op.kind) {
    case "planLimit":
      model.plan[op.plan] = op.limit;
      break;
    case "subscribe":
      model.subscriptions.push({ id: data.createSubscription.id, seats: op.seats, addonSeats: op.addonSeats });
      break;
    case "override":
      model.subscriptions[op.subscription % model.subscriptions.length]!.override = op.limit;
      break;
    case "grant":
      model.grants.push(op.limit);
      break;
    case "usage":
      model.used += op.quantity;
      break;
    case "check":
      expect(data.checkEntitlement.reason).toBe(model.decide(op.quantity));
      break;
    case "consume": {
      const reason = model.decide(op.quantity);
      expect(data.consumeEntitlement.reason).toBe(reason);
      if (reason === "ENTITLED") model.used += op.quantity;
      break;
    }
  }
}

describe("big numbers in combination", () => {
  it("limits near 1e15 times seats near 1e6, summed over many sources, with usage near 1e12: as the rules compute, never INTERNAL_ERROR", async () => {
    const summary = { runs: 0, taken: 0, refused: 0, largestLimit: 0, answers: {} as Record<string, number> };
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 4, maxLength: 20 }), async (operations) => {
        const { key } = await t.newProject("big-numbers");
        const s = seed(t, key);
        await s.feature({ key: "api-calls", type: "METERED" });
        const ids = { pro: (await s.plan({ key: "pro" })).id, extra: (await s.plan({ key: "extra", kind: "ADDON" })).id };
        await s.customer("acme");
        const model = new Model();
        summary.runs++;
        for (const op of operations) {
          const request = requestFor(op, model, ids);
          if (!request) continue;
          const result = await t.gql(request.query, request.variables, { key });
          const refused = refusedFields(op);
          const context = { op, errors: result.errors };
          if (refused.length === 0) {
            expect(result.errors, JSON.stringify(context)).toBeUndefined();
            apply(op, model, result.data);
            summary.taken++;
            const reason = result.data.checkEntitlement?.reason ?? result.data.consumeEntitlement?.reason;
            if (reason) summary.answers[reason] = (summary.answers[reason] ?? 0) + 1;
          } else {
            expect(result.errors?.length, JSON.stringify(context)).toBeGreaterThan(0);
            for (const error of result.errors ?? []) {
              expect(error.extensions?.code, JSON.stringify(context)).toBe("VALIDATION_ERROR");
              expect(refused, JSON.stringify(context)).toContain(namedField(error));
            }
            summary.refused++;
          }
        }

        const read = await t.gql(BIG_ENTITLEMENT, {}, { key });
        expect(read.errors).toBeUndefined();
        const entitlement = read.data.customer.entitlement;
        if (model.contributions().length === 0) {
          expect(entitlement).toBeNull();
          return;
        }
        const expected = model.limit();
        const { usageLimit, sources, usage, hasAccess } = entitlement;
        // Below 2^50 every sum of these values is exact; above, the order of adding may round differently.
        if (expected < 2 ** 50) expect(usageLimit).toBe(expected);
        else expect(Math.abs(usageLimit - expected) / expected).toBeLessThan(1e-12);
        expect(usageLimit).toBe(sources.reduce((sum: number, source: { usageLimit: number }) => sum + source.usageLimit, 0));
        expect(sources).toHaveLength(model.contributions().length);
        expect(usage).toEqual({ used: model.used, remaining: usageLimit - model.used });
        expect(hasAccess).toBe(model.used < usageLimit);
        summary.largestLimit = Math.max(summary.largestLimit, usageLimit);
      }),
      { numRuns: BIG_RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
    console.log(
      `big numbers: ${summary.runs} sequences, ${summary.taken} operations taken, ${summary.refused} refused, checks ${JSON.stringify(summary.answers)}, largest limit ${summary.largestLimit}`,
    );
    expect(summary.largestLimit).toBeGreaterThan(2 ** 53);
  }, 120_000);
});
