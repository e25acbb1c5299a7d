// P1, planning (docs/rules.md §9): a usage series of 1,000 DAY windows on Q6's heavy
// customer against one of a single window, and an impact preview of a catalog edit reaching
// 10,000 customers (its counts and a first page, in one request). Timed one request at a
// time, as a dashboard asks: medians of several.
import { DAY, seededRandom, type SqlRunner } from "./dataset.ts";
import type { Endpoint } from "./load.ts";
import { log } from "./log.ts";
import { expectShape, gqlBody, post } from "./queries.ts";
import { median } from "./statistics.ts";

/** The customers of the previewed plan. */
export interface ImpactCustomers {
  planKey: string;
  featureKey: string;
  count: number;
}

/** `count` customers subscribed to a plan of their own giving one BOOLEAN feature, written straight into the database. */
export async function addImpactCustomers(sql: SqlRunner, projectId: string, count: number): Promise<ImpactCustomers> {
  const random = seededRandom(7);
  const at = new Date(Date.now() - 10 * DAY).toISOString();
  const [plan, feature] = [random.uuid(), random.uuid()];
  await sql.query(
    `INSERT INTO "Feature" (id, "projectId", key, name, type, "updatedAt") VALUES ($1, $2, 'p1-sso', 'P1 SSO', 'BOOLEAN', $3)`,
    [feature, projectId, at],
  );
  await sql.query(
    `INSERT INTO "Plan" (id, "projectId", key, name, kind, "updatedAt") VALUES ($1, $2, 'p1-starter', 'P1 Starter', 'PLAN', $3)`,
    [plan, projectId, at],
  );
  await sql.query(`INSERT INTO "PlanEntitlement" (id, "planId", "featureId", "updatedAt") VALUES ($1, $2, $3, $4)`, [
    random.uuid(),
    plan,
    feature,
    at,
  ]);
  // Customers, subscriptions and phases by generate_series: ids derived from the index.
  const id = (kind: string) => `md5('${kind}-' || i)::uuid`;
  await sql.query(
    `INSERT INTO "Customer" (id, "projectId", "externalId", "updatedAt") SELECT ${id("customer")}, $1, 'p1-' || i, $2 FROM generate_series(1, $3::int) AS i`,
    [projectId, at, count],
  );
  await sql.query(
    `INSERT INTO "CustomerSubscription" (id, "projectId", "customerId", "startsAt", "billingAnchor", "updatedAt")
     SELECT ${id("subscription")}, $1, ${id("customer")}, $2, $2, $2 FROM generate_series(1, $3::int) AS i`,
    [projectId, at, count],
  );
  await sql.query(
    `INSERT INTO "SubscriptionPhase" (id, "subscriptionId", "planId", quantity, "startsAt")
     SELECT ${id("phase")}, ${id("subscription")}, $1, 1, $2 FROM generate_series(1, $3::int) AS i`,
    [plan, at, count],
  );
  await sql.query("ANALYZE");
  return { planKey: "p1-starter", featureKey: "p1-sso", count };
}

const SERIES = `query ($c: String!, $f: String!, $from: DateTime!, $to: DateTime!) {
  customer(externalId: $c) { usageSeries(featureKey: $f, from: $from, to: $to, window: DAY) { used } }
}`;
const IMPACT = `query ($p: ID!, $f: String!) {
  previewPlanEntitlementRemoval(planId: $p, featureKey: $f) {
    affectedCustomers losingAccess customers(first: 20) { totalCount edges { node { customer { externalId } } } }
  }
}`;

async function timed(times: number, request: () => Promise<unknown>): Promise<number> {
  const took: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await request();
    took.push(performance.now() - started);
  }
  return Math.round(median(took) * 10) / 10;
}

/** P1's figures: the series' milliseconds for 1,000 windows and for 1, and the preview's. */
export async function measurePlanning(api: Endpoint, heavy: { customer: string; featureKey: string } | undefined, impact: ImpactCustomers) {
  const url = `${api.baseUrl}${api.path}`;
  const to = new Date(Math.floor(Date.now() / DAY) * DAY);
  const series = async (windows: number) => {
    if (!heavy) return null;
    const body = gqlBody(SERIES, {
      c: heavy.customer,
      f: heavy.featureKey,
      from: new Date(to.getTime() - windows * DAY).toISOString(),
      to: to.toISOString(),
    });
    expectShape("P1 series", await post(url, body, api.headers), (data) => data.customer?.usageSeries?.length === windows);
    return timed(20, () => post(url, body, api.headers));
  };
  log("P1: usageSeries of 1,000 and of 1 DAY windows, and an impact preview");
  const [thousand, one] = [await series(1000), await series(1)];
  const plan = await post(url, gqlBody(`query ($k: String!) { plan(key: $k) { id } }`, { k: impact.planKey }), api.headers);
  const body = gqlBody(IMPACT, { p: plan.data?.plan?.id, f: impact.featureKey });
  expectShape(
    "P1 impact",
    await post(url, body, api.headers),
    (data) => data.previewPlanEntitlementRemoval?.affectedCustomers === impact.count,
  );
  const previewMs = await timed(3, () => post(url, body, api.headers));
  return { series1000Ms: thousand, series1Ms: one, impactCustomers: impact.count, impactPreviewMs: previewMs };
}
