// One idempotency key, two calls at once (docs/rules.md §5): a retry for the same customer and
// feature gets the first record back, however the calls interleave; the key used for another
// customer or feature is ALREADY_EXISTS naming it. Never an INTERNAL_ERROR, never two records.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, firstError, ok, type GraphQLResponse, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "exports", type: "METERED" });
  await s.feature({ key: "imports", type: "METERED" });
  const team = await s.plan({ key: "team", entitlements: { exports: { usageLimit: 1000 }, imports: { usageLimit: 1000 } } });
  for (const customer of ["ann", "bob"]) {
    await s.customer(customer);
    await s.subscription(customer, { planId: team.id });
  }
});
afterAll(() => t.close());

const ROUNDS = 20;

interface Call {
  kind: "consume" | "record";
  customer: string;
  featureKey: string;
}

const CONSUME = `mutation ($input: ConsumeInput!) { consumeEntitlement(input: $input) { allowed reason record { id } } }`;
const RECORD = `mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`;

const send = (call: Call, idempotencyKey: string) =>
  t.gql(call.kind === "consume" ? CONSUME : RECORD, {
    input: { customer: { externalId: call.customer }, featureKey: call.featureKey, idempotencyKey },
  });

/** The record id a call answered with. */
const recordId = (call: Call, result: GraphQLResponse) => {
  const data = ok(result);
  return call.kind === "consume" ? data.consumeEntitlement.record.id : data.recordUsage.id;
};

const recordsWithKey = (idempotencyKey: string) =>
  t.database.prisma.usageRecord.count({ where: { projectId: t.projectId, idempotencyKey } });

/** Runs `ROUNDS` rounds of the two calls in parallel, each round with a key of its own. */
async function race(name: string, calls: [Call, Call]) {
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const key = `${name}-${round}`;
    const results = await Promise.all(calls.map((call) => send(call, key)));
    rounds.push({ key, results, records: await recordsWithKey(key) });
  }
  return rounds;
}

describe("an idempotency key used twice at once", () => {
  it("for the same customer and feature: both consumes answer with the one record, allowed", async () => {
    const call: Call = { kind: "consume", customer: "ann", featureKey: "exports" };
    for (const { results, records } of await race("same", [call, call])) {
      expect(records).toBe(1);
      const [first, second] = results.map((result) => ok(result).consumeEntitlement);
      expect(first).toEqual(second);
      expect(first).toMatchObject({ allowed: true, reason: "ENTITLED" });
    }
  });

  it("by a consume and a recordUsage for the same customer and feature: both answer with the one record", async () => {
    const consume: Call = { kind: "consume", customer: "ann", featureKey: "imports" };
    const record: Call = { kind: "record", customer: "ann", featureKey: "imports" };
    for (const { results, records } of await race("mixed", [consume, record])) {
      expect(records).toBe(1);
      expect(ok(results[0]!).consumeEntitlement).toMatchObject({ allowed: true, reason: "ENTITLED" });
      expect(recordId(consume, results[0]!)).toBe(recordId(record, results[1]!));
    }
  });

  const call = (kind: Call["kind"], customer: string, featureKey: string): Call => ({ kind, customer, featureKey });
  const conflicts: [string, [Call, Call]][] = [
    ["by consumes for two customers", [call("consume", "ann", "exports"), call("consume", "bob", "exports")]],
    ["by consumes for two features", [call("consume", "bob", "exports"), call("consume", "bob", "imports")]],
    ["by a consume and a recordUsage for two customers", [call("consume", "ann", "exports"), call("record", "bob", "exports")]],
    ["by recordUsage for two features", [call("record", "ann", "exports"), call("record", "ann", "imports")]],
  ];
  it.each(conflicts)("%s: one writes the record, the other is ALREADY_EXISTS on input.idempotencyKey", async (name, calls) => {
    for (const { key, results, records } of await race(name.replaceAll(" ", "-"), calls)) {
      expect(records).toBe(1);
      const refused = results.filter((result) => result.errors);
      expect(refused.map(firstError)).toEqual([{ code: "ALREADY_EXISTS", field: "input.idempotencyKey" }]);
      const winner = results.findIndex((result) => !result.errors);
      const stored = await t.database.prisma.usageRecord.findFirstOrThrow({
        where: { projectId: t.projectId, idempotencyKey: key },
        include: { customer: true, feature: true },
      });
      expect({ customer: stored.customer.externalId, featureKey: stored.feature.key }).toEqual({
        customer: calls[winner]!.customer,
        featureKey: calls[winner]!.featureKey,
      });
    }
  });

  it("later, for another customer, is refused the same way, and the first record stays as it was", async () => {
    const first = ok(await send({ kind: "record", customer: "ann", featureKey: "exports" }, "later"));
    for (const call of [
      { kind: "record", customer: "bob", featureKey: "exports" },
      { kind: "consume", customer: "bob", featureKey: "exports" },
      { kind: "consume", customer: "ann", featureKey: "imports" },
    ] as const) {
      expect(firstError(await send(call, "later"))).toEqual({ code: "ALREADY_EXISTS", field: "input.idempotencyKey" });
    }
    expect(ok(await send({ kind: "consume", customer: "ann", featureKey: "exports" }, "later")).consumeEntitlement.record.id).toBe(
      first.recordUsage.id,
    );
    expect(await recordsWithKey("later")).toBe(1);
  });
});
