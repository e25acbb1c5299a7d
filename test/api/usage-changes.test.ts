// What usage writes tell subscribers, and what they read to know it (docs/rules.md §6): a
// usage record can only flip its own feature's hasAccess, and only under an enabled, finite,
// hard limit whose current period holds it. Crossing such a limit is told, one event per
// customer listing the features that flipped; anything else is told nothing and reads nothing
// beyond the insert itself (SQL statements counted).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertUsageRecords } from "../../src/db/usage-records.ts";
import { latestEventId, readEvents } from "../../src/db/event-log.ts";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const counter = new SqlCounter();
let t: TestApp;
/** Customers' externalIds by their stored ids, as events carry them. */
const externalIdOf = new Map<string, string>();
/** The plan every customer here is on (hard: 10, hard2: 5, …). */
let teamPlanId: string;
/** SQL statements one usage record's insert sends by itself. */
let insertAlone: number;

beforeAll(async () => {
  t = await createTestApp({ sqlCounter: counter });
  const s = seed(t);
  for (const key of ["hard", "hard2", "unlimited", "soft", "off", "unplanned"]) await s.feature({ key, type: "METERED" });
  const plan = await s.plan({
    key: "team",
    entitlements: {
      hard: { usageLimit: 10 },
      hard2: { usageLimit: 5 },
      unlimited: { isUnlimited: true },
      soft: { usageLimit: 10, isSoftLimit: true },
      off: { isEnabled: false, usageLimit: 10 },
    },
  });
  teamPlanId = plan.id;
  for (const customer of ["c1", "c2", "c3", "quiet"]) {
    await s.customer(customer);
    // Started ten days ago: a record of twenty days ago falls in an earlier (monthly) period.
    await s.subscription(customer, { planId: plan.id, startsAt: new Date(Date.now() - 10 * 86_400_000) });
  }
  for (const row of await t.database.prisma.customer.findMany({ where: { projectId: t.projectId } })) {
    externalIdOf.set(row.id, row.externalId);
  }

  // What the insert costs alone, measured on a customer nobody reads.
  const bystander = await s.customer("bystander");
  const [customer, feature] = await Promise.all([
    t.database.prisma.customer.findFirstOrThrow({ where: { projectId: t.projectId, externalId: bystander.externalId } }),
    t.database.prisma.feature.findFirstOrThrow({ where: { projectId: t.projectId, key: "hard" } }),
  ]);
  counter.reset();
  await insertUsageRecords(t.database.prisma, [
    { projectId: t.projectId, customerId: customer.id, featureId: feature.id, quantity: 1, timestamp: new Date(), idempotencyKey: null },
  ]);
  insertAlone = counter.count;
});
afterAll(() => t.close());

const RECORD = `mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`;
const RECORD_USAGES = `mutation ($records: [RecordUsageInput!]!) { recordUsages(records: $records) { recordedCount } }`;
const usage = (customer: string, featureKey: string, quantity: number, timestamp?: Date) => ({
  customer: { externalId: customer },
  featureKey,
  quantity,
  ...(timestamp ? { timestamp: timestamp.toISOString() } : {}),
});

/** The entitlements-changed events `write` logged, as (externalId, cause, feature keys), by customer. */
async function toldDuring(write: () => Promise<unknown>) {
  const before = await latestEventId(t.database.prisma, t.projectId);
  await write();
  const logged = await readEvents(t.database.prisma, t.projectId, before, { types: ["ENTITLEMENTS_CHANGED"] }, 1000);
  return logged
    .flatMap((event) => (event.type === "ENTITLEMENTS_CHANGED" ? [event] : []))
    .map((event) => ({
      customer: externalIdOf.get(event.customerId),
      cause: event.data.cause,
      changedFeatureKeys: event.data.changedFeatureKeys,
    }))
    .sort((a, b) => String(a.customer).localeCompare(String(b.customer)));
}

/** The SQL statements a write sends, once the caches it reads are warm (the same write, sent once before). */
async function statementsOf(write: () => Promise<unknown>) {
  await write();
  counter.reset();
  await write();
  return counter.count;
}

describe("usage writes and change events", () => {
  it("a batch taking customers across hard limits tells each customer once, listing the features it flipped", async () => {
    const told = await toldDuring(async () =>
      ok(
        await t.gql(RECORD_USAGES, {
          records: [
            usage("c1", "hard", 10), // 10 of 10: flipped
            usage("c1", "soft", 50), // soft: access stays
            usage("c1", "unlimited", 1e9),
            usage("c2", "hard", 3), // 3 of 10
            usage("c3", "hard", 6),
            usage("c3", "hard2", 5), // 5 of 5: flipped
            usage("c3", "hard", 4), // with the 6 above, 10 of 10: flipped
          ],
        }),
      ),
    );
    expect(told).toEqual([
      { customer: "c1", cause: "USAGE_CHANGED", changedFeatureKeys: ["hard"] },
      { customer: "c3", cause: "USAGE_CHANGED", changedFeatureKeys: ["hard", "hard2"] },
    ]);
  });

  it("tells when usage given back frees access, and nothing for records that cancel out in one batch", async () => {
    const freed = await toldDuring(async () => ok(await t.gql(RECORD, { input: usage("c1", "hard", -1) })));
    expect(freed).toEqual([{ customer: "c1", cause: "USAGE_CHANGED", changedFeatureKeys: ["hard"] }]);
    // 9 → 10 → 9: access ends where it began.
    const cancelled = await toldDuring(async () =>
      ok(await t.gql(RECORD_USAGES, { records: [usage("c1", "hard", 1), usage("c1", "hard", -1)] })),
    );
    expect(cancelled).toEqual([]);
  });

  it("concurrent records crossing a hard limit together announce the flip once", async () => {
    const s = seed(t);
    await s.customer("racer");
    await s.subscription("racer", { planId: teamPlanId, startsAt: new Date(Date.now() - 86_400_000) });
    externalIdOf.set(
      (await t.database.prisma.customer.findFirstOrThrow({ where: { projectId: t.projectId, externalId: "racer" } })).id,
      "racer",
    );
    const told = await toldDuring(() => Promise.all(Array.from({ length: 20 }, () => t.gql(RECORD, { input: usage("racer", "hard", 1) }))));
    expect(told).toEqual([{ customer: "racer", cause: "USAGE_CHANGED", changedFeatureKeys: ["hard"] }]);
  });

  const twentyDaysAgo = new Date(Date.now() - 20 * 86_400_000);
  const unobservable: [string, ReturnType<typeof usage>][] = [
    ["an unlimited feature", usage("quiet", "unlimited", 1e9)],
    ["a soft limit, even far past it", usage("quiet", "soft", 1e6)],
    ["a disabled feature", usage("quiet", "off", 1e6)],
    ["a feature the customer has no entitlement to", usage("quiet", "unplanned", 1e6)],
    ["a late record of an earlier period, however large", usage("quiet", "hard", 1e6, twentyDaysAgo)],
  ];
  it.each(unobservable)("a record on %s tells nothing and sends its insert alone", async (_name, input) => {
    const told = await toldDuring(async () => {
      expect(await statementsOf(async () => ok(await t.gql(RECORD, { input })))).toBe(insertAlone);
    });
    expect(told).toEqual([]);
  });

  it("a batch of such records tells nothing and sends its insert alone", async () => {
    const records = unobservable.map(([, input]) => input);
    const told = await toldDuring(async () => {
      expect(await statementsOf(async () => ok(await t.gql(RECORD_USAGES, { records })))).toBe(insertAlone);
    });
    expect(told).toEqual([]);
  });

  it("a record below a hard limit tells nothing and reads only the usage it changed, once, after its insert, in its transaction, under its lock", async () => {
    // What a transaction itself costs in statements, as this adapter counts them (its event would be logged in it).
    const transactionAlone = (await statementsOf(() => t.database.prisma.$transaction((tx) => tx.$executeRaw`SELECT 1`))) - 1;
    const told = await toldDuring(async () => {
      // Twice 0.5, in the same period: 1 of 10 used.
      expect(await statementsOf(async () => ok(await t.gql(RECORD, { input: usage("quiet", "hard", 0.5) })))).toBe(
        insertAlone + 1 + 1 + transactionAlone, // the sum, and the (customer, feature) lock that makes it exact
      );
    });
    expect(told).toEqual([]);
  });
});
