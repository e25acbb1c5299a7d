// Usage thresholds (docs/rules.md §6): a METERED feature's alertThresholds are announced once
// per customer, feature, threshold and usage period: reached by usage (recordUsage,
// recordUsages, consume) or by a limit lowered below it; never again while usage hovers; armed
// again by the next period; never for an unlimited entitlement; heard by subscription and log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed, type Seed } from "../helpers/seed.ts";
import { subscribeSse } from "../helpers/sse.ts";
import { waitUntil } from "../helpers/wait.ts";
import { latestEventId, readEvents } from "../../src/db/event-log.ts";

let t: TestApp;
let s: Seed;
let planId: string;
const subscriptionOf = new Map<string, string>();
beforeAll(async () => {
  t = await createTestApp();
  s = seed(t);
  ok(
    await t.gql(
      `mutation { createFeature(input: { key: "tokens", name: "Tokens", type: METERED, alertThresholds: [100, 50, 50] }) { alertThresholds } }`,
    ),
  );
  planId = (await s.plan({ key: "metered", entitlements: { tokens: { usageLimit: 1000 } } })).id;
  for (const customer of ["hover", "batch", "consumer", "lowered", "unlimited", "racing"]) {
    await s.customer(customer);
    subscriptionOf.set(customer, (await s.subscription(customer, { planId })).id);
  }
});
afterAll(() => t.close());

const record = (customer: string, quantity: number) => s.usage(customer, { featureKey: "tokens", quantity });

/** The threshold events logged for a customer since `after`, as (threshold, used). */
async function reached(customer: string, after: bigint) {
  const row = await t.database.prisma.customer.findFirstOrThrow({ where: { projectId: t.projectId, externalId: customer } });
  const events = await readEvents(t.database.prisma, t.projectId, after, { customerId: row.id, types: ["USAGE_THRESHOLD_REACHED"] }, 100);
  return events.flatMap((event) => (event.type === "USAGE_THRESHOLD_REACHED" ? [[event.data.threshold, event.data.used]] : []));
}
const now = () => latestEventId(t.database.prisma, t.projectId);

describe("usage thresholds", () => {
  it("keeps a feature's thresholds distinct and in order, and refuses what is not a percentage of a limit", async () => {
    expect(ok(await t.gql(`{ feature(key: "tokens") { alertThresholds } }`)).feature.alertThresholds).toEqual([50, 100]);
    const cases = [
      [`createFeature(input: { key: "flag", name: "Flag", type: BOOLEAN, alertThresholds: [80] })`, "input.alertThresholds"],
      [`createFeature(input: { key: "zero", name: "Zero", type: METERED, alertThresholds: [0] })`, "input.alertThresholds.0"],
      [`createFeature(input: { key: "huge", name: "Huge", type: METERED, alertThresholds: [50, 1001] })`, "input.alertThresholds.1"],
      [
        `createFeature(input: { key: "many", name: "Many", type: METERED, alertThresholds: [1,2,3,4,5,6,7,8,9,10,11] })`,
        "input.alertThresholds",
      ],
    ];
    for (const [mutation, field] of cases) {
      const refused = await t.gql(`mutation { ${mutation} { id } }`);
      expect(refused.errors?.[0]?.extensions, mutation).toMatchObject({ code: "VALIDATION_ERROR", field });
    }
  });

  it("announces 50% and 100% once each while usage crosses, hovers and crosses again", async () => {
    const start = await now();
    await record("hover", 400); // 40%
    await record("hover", 150); // 55%: 50 reached
    await record("hover", -100); // 45%
    await record("hover", 100); // 55% again: nothing
    await record("hover", 500); // 105%: 100 reached
    await record("hover", -200);
    await record("hover", 300); // 110% again: nothing
    expect(await reached("hover", start)).toEqual([
      [50, 550],
      [100, 1050],
    ]);
  });

  it("a batch passing both thresholds at once announces both; a consume reaching one announces it", async () => {
    const start = await now();
    ok(
      await t.gql(
        `mutation { recordUsages(records: [{ customer: { externalId: "batch" }, featureKey: "tokens", quantity: 600 }, { customer: { externalId: "batch" }, featureKey: "tokens", quantity: 600 }]) { recordedCount } }`,
      ),
    );
    expect(await reached("batch", start)).toEqual([
      [50, 1200],
      [100, 1200],
    ]);
    await record("consumer", 499);
    const consumed = ok(
      await t.gql(
        `mutation { consumeEntitlement(input: { customer: { externalId: "consumer" }, featureKey: "tokens", quantity: 1 }) { allowed } }`,
      ),
    );
    expect(consumed.consumeEntitlement.allowed).toBe(true);
    expect(await reached("consumer", start)).toEqual([[50, 500]]);
  });

  it("a limit lowered below the usage reaches a threshold too, once; an unlimited entitlement never does", async () => {
    await record("lowered", 400);
    const start = await now();
    ok(
      await t.gql(
        `mutation ($s: ID!) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "tokens", usageLimit: 500 }) { id } }`,
        {
          s: subscriptionOf.get("lowered"),
        },
      ),
    );
    expect(await reached("lowered", start)).toEqual([[50, 400]]);
    await s.grant("unlimited", { featureKey: "tokens", isUnlimited: true });
    const before = await now();
    await record("unlimited", 5000);
    expect(await reached("unlimited", before)).toEqual([]);
  });

  it("concurrent writers crossing a threshold together announce it once", async () => {
    const start = await now();
    await Promise.all(Array.from({ length: 20 }, () => record("racing", 30))); // 600 of 1000
    await record("racing", 1); // one more: a threshold a race left unannounced would be now
    expect(await reached("racing", start)).toEqual([[50, expect.any(Number)]]);
  });

  it("the next period arms them again, and a subscriber hears them", async () => {
    // A daily period ending in a second and a half.
    await s.feature({ key: "daily", type: "METERED" });
    ok(
      await t.gql(`mutation ($id: ID!) { updateFeature(input: { id: $id, alertThresholds: [50] }) { id } }`, {
        id: ok(await t.gql(`{ feature(key: "daily") { id } }`)).feature.id,
      }),
    );
    const daily = (await s.plan({ key: "daily", entitlements: { daily: { usageLimit: 10, resetPeriod: "DAILY" } } })).id;
    await s.customer("periodic");
    await s.subscription("periodic", { planId: daily, startsAt: new Date(Date.now() - 86_400_000 + 1500) });
    const subscription = await subscribeSse(
      (url, init) => t.app.fetch(url, init),
      "http://test/graphql",
      t.adminKey,
      `subscription ($after: ID) { usageThresholdReached(customer: { externalId: "periodic" }, after: $after) { id featureKey threshold used usageLimit periodStart periodEnd } }`,
      { after: (await now()).toString() },
    );
    try {
      await s.usage("periodic", { featureKey: "daily", quantity: 6 });
      const first = (await subscription.next()).data.usageThresholdReached;
      expect(first).toMatchObject({ featureKey: "daily", threshold: 50, used: 6, usageLimit: 10 });
      await waitUntil(() => Date.now() > Date.parse(first.periodEnd), { timeoutMs: 5000, what: "the period to end" });
      await s.usage("periodic", { featureKey: "daily", quantity: 6 });
      const second = (await subscription.next()).data.usageThresholdReached;
      expect(second).toMatchObject({ threshold: 50, used: 6, periodStart: first.periodEnd });
    } finally {
      await subscription.close();
    }
  });
});
