// Usage retention (docs/rules.md §5): raw records older than the retention are deleted in
// batches, their sums stay in the aggregates, so a lifetime (NEVER) sum and whole months of
// old periods answer as before; recent records, their keys and their sums are untouched.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebuildUsageAggregates } from "../../src/db/usage-records.ts";
import { purgeExpiredUsage } from "../../src/services/retention.ts";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

const DAY = 86_400_000;
const OLD_RECORDS = 45;

describe("usage retention", () => {
  let t: TestApp;
  let customerId = "";
  const now = new Date();
  // A whole UTC month a year ago: its bucket sums survive the purge exactly.
  const oldMonth = new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), 1));
  const oldMonthEnd = new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth() + 1, 1));

  const used = async (featureKey: string, at?: Date) =>
    ok(
      await t.gql(
        `query ($at: DateTime) { customer(externalId: "acme") { entitlement(featureKey: "${featureKey}", at: $at) { usage { used } } } }`,
        {
          at: at?.toISOString() ?? null,
        },
      ),
    ).customer.entitlement.usage.used as number;
  const rawCount = async (where: "old" | "recent") => {
    const cutoff = new Date(now.getTime() - 30 * DAY);
    return t.database.prisma.usageRecord.count({
      where: { customerId, timestamp: where === "old" ? { lt: cutoff } : { gte: cutoff } },
    });
  };

  beforeAll(async () => {
    // Without the cache: every answer below comes from the database.
    t = await createTestApp({ cacheSettings: { enabled: false } });
    const s = seed(t);
    await s.feature({ key: "storage", type: "METERED" });
    await s.feature({ key: "calls", type: "METERED" });
    const plan = await s.plan({
      key: "p",
      entitlements: { storage: { usageLimit: 1e9, resetPeriod: "NEVER" }, calls: { usageLimit: 1e9, resetPeriod: "MONTHLY" } },
    });
    await s.customer("acme");
    // The billing anchor on a UTC month's start: the old monthly period is a whole month bucket.
    const anchor = new Date(Date.UTC(now.getUTCFullYear() - 2, 0, 1)).toISOString();
    await s.subscription("acme", { planId: plan.id, startsAt: anchor, billingAnchor: anchor });
    customerId = (await t.database.prisma.customer.findFirstOrThrow({ where: { projectId: t.projectId, externalId: "acme" } })).id;
    const features = await t.database.prisma.feature.findMany({ where: { projectId: t.projectId } });
    // Old records of both features spread over the old month, bulk-loaded, then summed.
    for (const feature of features) {
      await t.database.prisma.$executeRaw`
        INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp", "idempotencyKey")
        SELECT gen_random_uuid(), ${t.projectId}::uuid, ${customerId}::uuid, ${feature.id}::uuid, g + 0.5,
               ${oldMonth}::timestamptz + g * interval '13 hours 7 minutes', ${feature.key} || '-old-' || g
        FROM generate_series(1, ${OLD_RECORDS}::int) g`;
    }
    await rebuildUsageAggregates({ query: (sql) => t.database.prisma.$executeRawUnsafe(sql) });
    for (const featureKey of ["storage", "calls"]) {
      for (let i = 0; i < 3; i++) {
        ok(
          await t.gql(`mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { id } }`, {
            input: { customer: { externalId: "acme" }, featureKey, quantity: 2, idempotencyKey: `${featureKey}-recent-${i}` },
          }),
        );
      }
    }
  });
  afterAll(() => t?.close());

  it("deletes the old raw records in batches, keeps recent ones, and the NEVER sum and old months stay as they were", async () => {
    const oldSum = (OLD_RECORDS * (OLD_RECORDS + 1)) / 2 + OLD_RECORDS * 0.5;
    expect(await used("storage")).toBe(oldSum + 6);
    expect(await used("calls", new Date(oldMonth.getTime() + DAY))).toBe(oldSum);
    expect(await rawCount("old")).toBe(2 * OLD_RECORDS);
    expect(oldMonthEnd.getTime()).toBeLessThan(now.getTime() - 30 * DAY);

    // A batch of 7 forces many statements; nothing is deleted when the retention is off.
    expect(await purgeExpiredUsage(t.database.prisma, { retentionDays: 0, now })).toBe(0);
    expect(await purgeExpiredUsage(t.database.prisma, { retentionDays: 30, now, batchSize: 7 })).toBe(2 * OLD_RECORDS);

    expect(await rawCount("old")).toBe(0);
    expect(await rawCount("recent")).toBe(6);
    // Six raw records left, fewer than the probe's threshold: the sum still counts the purged ones.
    expect(await used("storage")).toBe(oldSum + 6);
    expect(await used("calls", new Date(oldMonth.getTime() + DAY))).toBe(oldSum);
    expect(await used("calls")).toBe(6);

    // A recent key is still a retry; a new record adds exactly its quantity.
    const retry = `mutation { recordUsage(input: { customer: { externalId: "acme" }, featureKey: "storage", quantity: 2, idempotencyKey: "storage-recent-0" }) { id } }`;
    ok(await t.gql(retry));
    ok(await t.gql(`mutation { recordUsage(input: { customer: { externalId: "acme" }, featureKey: "storage", quantity: 4 }) { id } }`));
    expect(await used("storage")).toBe(oldSum + 10);

    // A second purge finds nothing more to delete.
    expect(await purgeExpiredUsage(t.database.prisma, { retentionDays: 30, now })).toBe(0);
  });

  it("refuses to rebuild the aggregates once records were purged, since the rebuild would lose their sums", async () => {
    await expect(rebuildUsageAggregates({ query: (sql) => t.database.prisma.$executeRawUnsafe(sql) })).rejects.toThrow(/purged/);
    expect(await used("storage")).toBe((OLD_RECORDS * (OLD_RECORDS + 1)) / 2 + OLD_RECORDS * 0.5 + 10);
  });
});
