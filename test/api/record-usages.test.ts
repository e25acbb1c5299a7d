// recordUsages (docs/rules.md §5): up to 1,000 usage records in one atomic call over any
// customers and features, each by recordUsage's rules; one bad record refuses the call,
// naming it, and nothing is stored; idempotency keys count once within a call, across calls
// and between calls running at once; a fixed number of SQL statements whatever the size.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, firstError, globalIdOf, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

let t: TestApp;
const CUSTOMERS = ["ann", "bob", "cy"];
const customerIds: Record<string, string> = {};
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "tokens", type: "METERED" });
  await s.feature({ key: "calls", type: "METERED" });
  await s.feature({ key: "legacy", type: "METERED" });
  await s.feature({ key: "sso", type: "BOOLEAN" });
  const plan = await s.plan({
    key: "team",
    entitlements: { tokens: { usageLimit: 1_000_000 }, calls: { usageLimit: 1000 }, legacy: { usageLimit: 10 } },
  });
  for (const customer of CUSTOMERS) {
    customerIds[customer] = (await s.customer(customer)).id;
    // Started ten days ago: the current (monthly) period holds the last ten days, no more.
    await s.subscription(customer, { planId: plan.id, startsAt: new Date(Date.now() - 10 * 86_400_000) });
  }
});
afterAll(() => t.close());

const RECORD_USAGES = `mutation ($records: [RecordUsageInput!]!) {
  recordUsages(records: $records) {
    recordedCount
    records { id quantity timestamp idempotencyKey customer { externalId } feature { key } }
  }
}`;

interface UsageInput {
  customer: { externalId?: string; id?: string };
  featureKey: string;
  quantity?: number;
  timestamp?: string;
  idempotencyKey?: string;
}

const input = (customer: string, featureKey: string, quantity: number, extra: Partial<UsageInput> = {}): UsageInput => ({
  customer: { externalId: customer },
  featureKey,
  quantity,
  ...extra,
});

const recordUsages = (records: unknown[], key?: string) => t.gql(RECORD_USAGES, { records }, { key });

/** What is stored: the project's number of usage records and each (customer, feature)'s usage now. */
async function stored() {
  const count = await t.database.prisma.usageRecord.count({ where: { projectId: t.projectId } });
  const result = ok(await t.gql(`{ customers(first: 10) { edges { node { externalId entitlements { featureKey usage { used } } } } } }`));
  const used: Record<string, number> = {};
  for (const { node } of result.customers.edges) {
    for (const entitlement of node.entitlements) used[`${node.externalId}/${entitlement.featureKey}`] = entitlement.usage?.used ?? 0;
  }
  return { count, used };
}

/** Every key once, in an order of each call's own: rotated, and reversed for odd calls. */
const orderOf = (keys: readonly string[], call: number) => {
  const rotated = [...keys.slice((call * 7) % keys.length), ...keys.slice(0, (call * 7) % keys.length)];
  return call % 2 ? rotated.reverse() : rotated;
};

/** Twenty good records over every customer and two features, one of them at `index` replaced. */
const batchWith = (index: number, bad: unknown) => {
  const records: unknown[] = Array.from({ length: 20 }, (_, i) => input(CUSTOMERS[i % 3]!, i % 2 ? "tokens" : "calls", i + 1));
  records[index] = bad;
  return records;
};

describe("recordUsages", () => {
  it("stores a batch over several customers and features: one record per input in order, and the sums add up", async () => {
    const before = await stored();
    const lastMonth = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const records = [
      ...Array.from({ length: 30 }, (_, i) => input(CUSTOMERS[i % 3]!, i % 2 ? "tokens" : "calls", i * 10 + 0.5)),
      input("bob", "tokens", -7), // given back
      input("cy", "calls", 3, { timestamp: new Date(Date.now() - 3_600_000).toISOString() }), // late, this period
      input("ann", "calls", 1e12), // the largest quantity
      { customer: { id: customerIds.cy }, featureKey: "tokens" }, // by id, quantity 1
      input("ann", "tokens", 999, { timestamp: lastMonth }), // late, an earlier period: stored, not counted now
    ];
    const result = ok(await recordUsages(records)).recordUsages;
    expect(result.recordedCount).toBe(records.length);
    expect(result.records.map((r: any) => [r.customer.externalId, r.feature.key, r.quantity])).toEqual(
      records.map((r: any) => [r.customer.externalId ?? "cy", r.featureKey, r.quantity ?? 1]),
    );
    expect(new Set(result.records.map((r: any) => r.id)).size).toBe(records.length);
    expect(result.records.at(-1).timestamp).toBe(lastMonth);

    const expected = { ...before.used };
    for (const record of records.slice(0, -1) as UsageInput[]) {
      const name = `${record.customer.externalId ?? "cy"}/${record.featureKey}`;
      expected[name] = (expected[name] ?? 0) + (record.quantity ?? 1);
    }
    expect(await stored()).toEqual({ count: before.count + records.length, used: expected });
  });

  it("records nothing for an empty list, and says so", async () => {
    const before = await stored();
    expect(ok(await recordUsages([])).recordUsages).toEqual({ recordedCount: 0, records: [] });
    expect(await stored()).toEqual(before);
  });

  it("keeps recording an archived METERED feature, as recordUsage does: what uses it keeps working", async () => {
    const { legacy } = ok(await t.gql(`{ legacy: feature(key: "legacy") { id } }`));
    ok(await t.gql(`mutation ($id: ID!) { archiveFeature(id: $id) { status } }`, { id: legacy.id }));
    const before = await stored();
    expect(ok(await recordUsages([input("ann", "legacy", 2), input("bob", "legacy", 3)])).recordUsages.recordedCount).toBe(2);
    expect((await stored()).used).toMatchObject({
      "ann/legacy": before.used["ann/legacy"]! + 2,
      "bob/legacy": before.used["bob/legacy"]! + 3,
    });
  });

  const inFuture = new Date(Date.now() + 10 * 60_000).toISOString();
  const refusals: [string, unknown[] | (() => Promise<unknown[]>), { code: string; field: string }][] = [
    [
      "a quantity over 1e12 at record 17",
      batchWith(17, input("ann", "calls", 1e13)),
      { code: "VALIDATION_ERROR", field: "records.17.quantity" },
    ],
    [
      "an unknown customer at record 3",
      batchWith(3, input("nobody", "calls", 1)),
      { code: "NOT_FOUND", field: "records.3.customer.externalId" },
    ],
    [
      "an unknown customer id at record 3",
      batchWith(3, { customer: { id: globalIdOf("Customer", "00000000-0000-4000-8000-000000000000") }, featureKey: "calls" }),
      { code: "NOT_FOUND", field: "records.3.customer.id" },
    ],
    [
      "a customer given by both id and externalId at record 3",
      () => Promise.resolve(batchWith(3, { customer: { id: customerIds.ann, externalId: "ann" }, featureKey: "calls" })),
      { code: "VALIDATION_ERROR", field: "records.3.customer" },
    ],
    ["an unknown feature at record 5", batchWith(5, input("ann", "nothing", 1)), { code: "NOT_FOUND", field: "records.5.featureKey" }],
    ["a BOOLEAN feature at record 5", batchWith(5, input("ann", "sso", 1)), { code: "VALIDATION_ERROR", field: "records.5.featureKey" }],
    [
      "a timestamp more than 5 minutes ahead at record 9",
      batchWith(9, input("ann", "calls", 1, { timestamp: inFuture })),
      { code: "VALIDATION_ERROR", field: "records.9.timestamp" },
    ],
    [
      "an idempotency key used for another customer earlier in the call, at record 9",
      (() => {
        const records = batchWith(2, input("ann", "calls", 1, { idempotencyKey: "shared-in-call" }));
        records[9] = input("bob", "calls", 1, { idempotencyKey: "shared-in-call" });
        return records;
      })(),
      { code: "ALREADY_EXISTS", field: "records.9.idempotencyKey" },
    ],
    [
      "an idempotency key an earlier call used for another feature, at record 9 (after the others were inserted)",
      async () => {
        ok(await recordUsages([input("ann", "tokens", 1, { idempotencyKey: "taken-for-tokens" })]));
        return batchWith(9, input("ann", "calls", 1, { idempotencyKey: "taken-for-tokens" }));
      },
      { code: "ALREADY_EXISTS", field: "records.9.idempotencyKey" },
    ],
    ["1,001 records", Array.from({ length: 1001 }, () => input("ann", "calls", 1)), { code: "VALIDATION_ERROR", field: "records" }],
  ];
  it.each(refusals)("refuses the whole call for %s, naming it, and stores nothing", async (_name, records, error) => {
    const batch = typeof records === "function" ? await records() : records;
    const before = await stored();
    const result = await recordUsages(batch);
    expect(firstError(result)).toEqual(error);
    expect(result.data ?? null).toBeNull();
    expect(await stored()).toEqual(before);
  });

  it("counts a key repeated within a call once: its later uses answer the first record", async () => {
    const before = await stored();
    const key = (name: string) => ({ idempotencyKey: `within-${name}` });
    const records = [
      input("ann", "calls", 5, key("a")),
      input("bob", "calls", 7, key("b")),
      input("ann", "calls", 50, key("a")), // a retry: whatever it carries, the first record answers
      input("ann", "calls", 1),
      input("ann", "calls", 5, key("a")),
    ];
    const result = ok(await recordUsages(records)).recordUsages;
    expect(result.recordedCount).toBe(3);
    const ids = result.records.map((r: any) => r.id);
    expect([ids[2], ids[4]]).toEqual([ids[0], ids[0]]);
    expect(new Set(ids).size).toBe(3);
    expect(result.records[2]).toEqual(result.records[0]);
    expect(await stored()).toMatchObject({
      count: before.count + 3,
      used: { "ann/calls": before.used["ann/calls"]! + 6, "bob/calls": before.used["bob/calls"]! + 7 },
    });
  });

  it("answers a key an earlier call wrote with that record, from recordUsages, recordUsage and consumeEntitlement alike", async () => {
    const first = ok(await recordUsages([input("cy", "calls", 4, { idempotencyKey: "across-1" })])).recordUsages.records[0];
    const before = await stored();
    const again = ok(
      await recordUsages([
        input("cy", "calls", 4, { idempotencyKey: "across-1" }),
        input("cy", "calls", 2, { idempotencyKey: "across-2" }),
      ]),
    ).recordUsages;
    expect(again.recordedCount).toBe(1);
    expect(again.records[0]).toEqual(first);
    const single = ok(
      await t.gql(`mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`, {
        input: input("cy", "calls", 4, { idempotencyKey: "across-1" }),
      }),
    ).recordUsage;
    const consumed = ok(
      await t.gql(`mutation ($input: ConsumeInput!) { consumeEntitlement(input: $input) { allowed record { id } } }`, {
        input: input("cy", "calls", 4, { idempotencyKey: "across-2" }),
      }),
    ).consumeEntitlement;
    expect(single.id).toBe(first.id);
    expect(consumed).toEqual({ allowed: true, record: { id: again.records[1].id } });
    expect(await stored()).toMatchObject({ count: before.count + 1, used: { "cy/calls": before.used["cy/calls"]! + 2 } });
  });

  it("stores each key once when calls sharing keys run at once, in any order, every call answering the one record", async () => {
    for (let round = 0; round < 2; round++) {
      const before = await stored();
      const keys = Array.from({ length: 998 }, (_, i) => `concurrent-${round}-${i}`);
      // Each call sends every key, in an order of its own, and two records without a key.
      const calls = Array.from({ length: 6 }, (_, call) => [
        ...orderOf(keys, call).map((key) => input("bob", "tokens", 10, { idempotencyKey: key })),
        input("bob", "tokens", 1),
        input("bob", "tokens", 1),
      ]);
      for (const records of calls) expect(new Set(records.map((r) => r.idempotencyKey)).size).toBe(keys.length + 1);
      const results = (await Promise.all(calls.map((records) => recordUsages(records)))).map((result) => ok(result).recordUsages);
      expect(results.reduce((sum, result) => sum + result.recordedCount, 0)).toBe(keys.length + 2 * calls.length);
      const idByKey = new Map<string, string>();
      for (const result of results) {
        for (const record of result.records.filter((r: any) => r.idempotencyKey)) {
          expect(idByKey.get(record.idempotencyKey) ?? record.id).toBe(record.id);
          idByKey.set(record.idempotencyKey, record.id);
        }
      }
      expect(idByKey.size).toBe(keys.length);
      expect(await stored()).toMatchObject({
        count: before.count + keys.length + 2 * calls.length,
        used: { "bob/tokens": before.used["bob/tokens"]! + 10 * keys.length + 2 * calls.length },
      });
    }
  });

  it("is for WRITE keys: a READ key and a customer token are PERMISSION_DENIED and store nothing", async () => {
    const created = ok(
      await t.gql(`mutation {
        key: createApiKey(input: { name: "reader", scopes: [READ] }) { secret }
        token: createCustomerToken(customer: { externalId: "ann" }) { token }
      }`),
    );
    const before = await stored();
    for (const credential of [created.key.secret, created.token.token]) {
      expect(firstError(await recordUsages([input("ann", "calls", 1)], credential)).code).toBe("PERMISSION_DENIED");
    }
    expect(await stored()).toEqual(before);
  });
});

describe("recordUsages' SQL statements", () => {
  it("are the same for 10 and 1,000 records over ten customers and two features, and no more for 1", async () => {
    const counter = new SqlCounter();
    // Without the entitlement cache: every lookup reaches the database, so batching shows.
    const app = await createTestApp({ sqlCounter: counter, cacheSettings: { enabled: false } });
    try {
      const s = seed(app);
      await s.feature({ key: "tokens", type: "METERED" });
      await s.feature({ key: "calls", type: "METERED" });
      const plan = await s.plan({ key: "team", entitlements: { tokens: { usageLimit: 1e9 }, calls: { usageLimit: 1e9 } } });
      const names = Array.from({ length: 10 }, (_, i) => `customer-${i}`);
      for (const name of names) {
        await s.customer(name);
        await s.subscription(name, { planId: plan.id });
      }
      const counts: Record<number, number> = {};
      for (const size of [1, 10, 1000]) {
        const records = Array.from({ length: size }, (_, i) =>
          input(names[i % names.length]!, i % 2 ? "tokens" : "calls", 1, { idempotencyKey: `sql-${size}-${i}` }),
        );
        counter.reset();
        const result = await app.gql(RECORD_USAGES, { records });
        expect(ok(result).recordUsages.recordedCount).toBe(size);
        counts[size] = counter.count;
      }
      console.log(`SQL statements per recordUsages call by records: ${JSON.stringify(counts)}`);
      expect(counts[1000]).toBe(counts[10]);
      // One record needs no transaction around its insert (nothing beside it to undo): no more.
      expect(counts[1]).toBeLessThanOrEqual(counts[10]!);
    } finally {
      await app.close();
    }
  });
});
