// Customer.usageSeries through the API (docs/rules.md §9), on both databases: the windows of
// a usage period add up to its usage.used, edges off window boundaries included; empty
// windows are 0; a series costs two statements however many windows and records; bad
// arguments are refused naming themselves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

const counter = new SqlCounter();
let t: TestApp;
// A monthly period anchored off every window boundary: 10 June 13:37:20.5 UTC.
const ANCHOR = "2026-06-10T13:37:20.500Z";
const PERIOD = { start: "2026-09-10T13:37:20.500Z", end: "2026-10-10T13:37:20.500Z" };

beforeAll(async () => {
  t = await createTestApp({ sqlCounter: counter });
  const s = seed(t);
  await s.feature({ key: "calls", type: "METERED" });
  await s.feature({ key: "sso", type: "BOOLEAN" });
  const plan = await s.plan({ key: "monthly", entitlements: { calls: { usageLimit: 1e6, resetPeriod: "MONTHLY" } } });
  await s.customer("dashboard");
  await s.subscription("dashboard", { planId: plan.id, startsAt: ANCHOR, billingAnchor: ANCHOR });
  // Records around and inside the period, at its very edges too, late and negative ones among them.
  const at = (iso: string, quantity: number) => ({ customer: { externalId: "dashboard" }, featureKey: "calls", quantity, timestamp: iso });
  const records = [
    at("2026-09-10T13:37:20.499Z", 1000), // a millisecond before the period: not in it
    at(PERIOD.start, 3),
    at("2026-09-10T13:59:59.999Z", 2.25),
    at("2026-09-11T00:00:00.000Z", 7),
    at("2026-09-30T23:59:59.999Z", -1.5),
    at("2026-10-01T00:00:00.000Z", 4),
    at("2026-10-10T13:37:20.499Z", 10), // the period's last millisecond
    at(PERIOD.end, 500), // the next period's first
    ...Array.from({ length: 40 }, (_, index) =>
      at(new Date(Date.parse("2026-09-12T05:00:00Z") + index * 3_600_000 * 11).toISOString(), 0.75),
    ),
  ];
  ok(await t.gql(`mutation ($r: [RecordUsageInput!]!) { recordUsages(records: $r) { recordedCount } }`, { r: records }));
});
afterAll(() => t.close());

const SERIES = `query ($from: DateTime!, $to: DateTime!, $w: UsageWindow!, $f: String!) {
  customer(externalId: "dashboard") { usageSeries(featureKey: $f, from: $from, to: $to, window: $w) { start end used } }
}`;
type Bucket = { start: string; end: string; used: number };
const series = async (from: string, to: string, window: string, featureKey = "calls") =>
  ok(await t.gql(SERIES, { from, to, w: window, f: featureKey })).customer.usageSeries as Bucket[];

describe("usageSeries", () => {
  it("adds up to usage.used over a period whose edges are off every window boundary, at every width", async () => {
    const used = ok(
      await t.gql(
        `{ customer(externalId: "dashboard") { entitlement(featureKey: "calls", at: "2026-09-20T00:00:00Z") { usage { used periodStart periodEnd } } } }`,
      ),
    ).customer.entitlement.usage;
    expect(used).toMatchObject({ periodStart: PERIOD.start, periodEnd: PERIOD.end });
    expect(used.used).toBe(3 + 2.25 + 7 - 1.5 + 4 + 10 + 40 * 0.75);
    for (const window of ["HOUR", "DAY", "MONTH"]) {
      const buckets = await series(PERIOD.start, PERIOD.end, window);
      expect(buckets.reduce((sum, bucket) => sum + bucket.used, 0)).toBe(used.used);
      expect(buckets[0]?.start).toBe(PERIOD.start);
      expect(buckets.at(-1)?.end).toBe(PERIOD.end);
    }
  });

  it("answers each UTC window, empty ones as 0, the clipped edges with what falls in them", async () => {
    const days = await series("2026-09-10T12:00:00Z", "2026-09-12T00:00:00Z", "DAY");
    expect(days).toEqual([
      { start: "2026-09-10T12:00:00.000Z", end: "2026-09-11T00:00:00.000Z", used: 1000 + 3 + 2.25 },
      { start: "2026-09-11T00:00:00.000Z", end: "2026-09-12T00:00:00.000Z", used: 7 },
    ]);
    const quiet = await series("2026-08-01T00:00:00Z", "2026-08-04T00:00:00Z", "DAY");
    expect(quiet.map((bucket) => bucket.used)).toEqual([0, 0, 0]);
  });

  it("costs two statements for 1,000 windows, as for one", async () => {
    const statementsOf = async (from: string, to: string, window: string) => {
      counter.reset();
      await series(from, to, window);
      return counter.count;
    };
    // Clipped edges: one statement for the whole windows, one for the edges.
    const thousand = await statementsOf("2026-09-01T13:37:20.500Z", "2026-10-12T05:00:00Z", "HOUR");
    expect((await series("2026-09-01T13:37:20.500Z", "2026-10-12T05:00:00Z", "HOUR")).length).toBe(976);
    const one = await statementsOf("2026-09-10T13:37:20.500Z", "2026-09-10T15:00:00Z", "HOUR");
    expect(thousand).toBe(one);
    expect(thousand).toBe(2);
  });

  it("refuses from ≥ to, more than 1,000 windows and a feature that is not METERED, naming the argument", async () => {
    const refusal = async (from: string, to: string, window: string, featureKey = "calls") => {
      const error = (await t.gql(SERIES, { from, to, w: window, f: featureKey })).errors?.[0];
      return [error?.extensions?.code, error?.extensions?.field];
    };
    expect(await refusal("2026-09-02T00:00:00Z", "2026-09-01T00:00:00Z", "DAY")).toEqual(["VALIDATION_ERROR", "from"]);
    expect(await refusal("2026-09-01T00:00:00Z", "2026-09-01T00:00:00Z", "DAY")).toEqual(["VALIDATION_ERROR", "from"]);
    expect(await refusal("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "MINUTE")).toEqual(["VALIDATION_ERROR", "window"]);
    expect(await refusal("2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z", "DAY", "sso")).toEqual(["VALIDATION_ERROR", "featureKey"]);
    expect(
      (await t.gql(SERIES, { from: "2026-09-01T00:00:00Z", to: "2026-09-02T00:00:00Z", w: "DAY", f: "nope" })).errors?.[0]?.extensions
        ?.code,
    ).toBe("NOT_FOUND");
  });
});
