// Q6, a heavy customer: one customer with a great many usage records in the current period
// and a light one with a few, on the same plan, whose hard limit is high enough never to be
// reached (so every check adds up usage and compares). While usage is recorded for the heavy
// customer at 200 records/s, checks and recordUsage calls for both customers are sent in turn
// at a fixed rate and timed apart: both kinds see the same load, and heavy / light says how
// much a usage read costs more for a long history.
import { rebuildUsageAggregates } from "../src/db/usage-records.ts";
import { DAY, seededRandom, type SqlRunner } from "./dataset.ts";
import { openLoopByKind, waitUntilIdle, type Endpoint, type LoadResult } from "./load.ts";
import { log } from "./log.ts";
import { expectShape, gqlBody, post, Q3, RECORD_USAGE } from "./queries.ts";
import { ratio } from "./statistics.ts";

/** The two customers Q6 compares, and the feature it checks and records. */
export interface HeavyCustomers {
  heavy: string;
  light: string;
  featureKey: string;
  /** The heavy customer's records in the current period. */
  records: number;
}

const LIGHT_RECORDS = 5;
/** High enough that neither customer reaches it during the run: every check compares. */
const USAGE_LIMIT = 1_000_000_000;
/** Records per statement when generating the heavy customer's history. */
const CHUNK = 200_000;

/** `count` records of quantity 1 for one customer, evenly spread over [from, until), by SQL. */
async function insertSpreadRecords(
  sql: SqlRunner,
  ids: { projectId: string; customerId: string; featureId: string },
  count: number,
  from: Date,
  until: Date,
) {
  for (let first = 1; first <= count; first += CHUNK) {
    await sql.query(
      `INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp")
       SELECT md5($2::text || i)::uuid, $1::uuid, $2::uuid, $3::uuid, 1,
              $4::timestamptz + ($5::timestamptz - $4::timestamptz) * ((i - 1)::float8 / $7::int)
       FROM generate_series($6::int, LEAST($6::int + ${CHUNK - 1}, $7::int)) AS i`,
      [ids.projectId, ids.customerId, ids.featureId, from.toISOString(), until.toISOString(), first, count],
    );
  }
}

/**
 * Adds the heavy customer with `records` usage records in its current period and the light one
 * with a few, both subscribed (for 20 days, monthly periods) to a plan of their own that gives
 * one METERED feature a hard limit. Written straight into the database, before the server
 * starts, with the usage aggregates rebuilt.
 */
export async function addHeavyCustomer(sql: SqlRunner, projectId: string, records: number): Promise<HeavyCustomers> {
  const random = seededRandom(6);
  const now = Date.now();
  const anchor = new Date(now - 20 * DAY);
  const until = new Date(now - 60_000);
  const rows = (await sql.query(`SELECT id, key FROM "Feature" WHERE "projectId" = $1 AND type = 'METERED' ORDER BY key LIMIT 1`, [
    projectId,
  ])) as { rows: { id: string; key: string }[] };
  const feature = rows.rows[0]!;
  const plan = random.uuid();
  const customers = [
    { externalId: "q6-heavy", records },
    { externalId: "q6-light", records: LIGHT_RECORDS },
  ].map((customer) => ({ ...customer, id: random.uuid(), subscription: random.uuid() }));
  const at = anchor.toISOString();
  await sql.query(`INSERT INTO "Plan" (id, "projectId", key, name, kind, "updatedAt") VALUES ($1, $2, 'q6-plan', 'Q6 plan', 'PLAN', $3)`, [
    plan,
    projectId,
    at,
  ]);
  await sql.query(
    `INSERT INTO "PlanEntitlement" (id, "planId", "featureId", "usageLimit", "resetPeriod", "updatedAt") VALUES ($1, $2, $3, $4, 'MONTHLY', $5)`,
    [random.uuid(), plan, feature.id, USAGE_LIMIT, at],
  );
  for (const customer of customers) {
    await sql.query(`INSERT INTO "Customer" (id, "projectId", "externalId", "updatedAt") VALUES ($1, $2, $3, $4)`, [
      customer.id,
      projectId,
      customer.externalId,
      at,
    ]);
    await sql.query(
      `INSERT INTO "CustomerSubscription" (id, "projectId", "customerId", "startsAt", "billingAnchor", "updatedAt") VALUES ($1, $2, $3, $4, $4, $4)`,
      [customer.subscription, projectId, customer.id, at],
    );
    await sql.query(`INSERT INTO "SubscriptionPhase" (id, "subscriptionId", "planId", quantity, "startsAt") VALUES ($1, $2, $3, 1, $4)`, [
      random.uuid(),
      customer.subscription,
      plan,
      at,
    ]);
    await insertSpreadRecords(sql, { projectId, customerId: customer.id, featureId: feature.id }, customer.records, anchor, until);
  }
  // The records went in by plain SQL: their sums are made afresh (the dataset's with them).
  await rebuildUsageAggregates(sql);
  await sql.query(`ANALYZE`);
  return { heavy: "q6-heavy", light: "q6-light", featureKey: feature.key, records };
}

/** Background writing for the heavy customer, as the issue describes an API customer's. */
const WRITES_PER_S = 200;
/** The timed requests: a check and a record for each customer, 15 of each a second (light, beside the writing). */
const TIMED_RATE = 60;
/** Background writing alone before the timed requests start. */
const WARM_UP_S = 1;

const noErrors = (body: string) => !body.includes('"errors"');

const USAGE = `query ($c: String!, $f: String!) { customer(externalId: $c) { entitlement(featureKey: $f) { hasAccess usage { used } } } }`;

const latencies = ({ p50, p99 }: LoadResult) => ({ p50, p99 });

/** Check and recordUsage latencies of the heavy and the light customer under background writing (for `seconds`), and their ratios. */
export async function measureHeavyCustomer(api: Endpoint, customers: HeavyCustomers, seconds: number) {
  const url = `${api.baseUrl}${api.path}`;
  const { heavy, light, featureKey: f, records } = customers;
  for (const [c, used] of [
    [heavy, records],
    [light, LIGHT_RECORDS],
  ] as const) {
    expectShape(
      "Q6 setup",
      await post(url, gqlBody(USAGE, { c, f }), api.headers),
      (data) => data.customer?.entitlement?.hasAccess === true && data.customer.entitlement.usage.used >= used,
    );
  }
  const record = (c: string) => gqlBody(RECORD_USAGE, { c, f });
  const check = (c: string) => gqlBody(Q3, { c, f });
  log(`Q6: ${records} records; ${WRITES_PER_S} records/s for the heavy customer, checks and records for both at ${TIMED_RATE} req/s`);
  await waitUntilIdle(api.baseUrl);
  const background = openLoopByKind(api, [{ kind: "write", body: record(heavy) }], {
    rate: WRITES_PER_S,
    seconds: WARM_UP_S + seconds,
    accept: noErrors,
  });
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_S * 1000));
  const timed = await openLoopByKind(
    api,
    [
      { kind: "heavyCheck", body: check(heavy) },
      { kind: "heavyRecord", body: record(heavy) },
      { kind: "lightCheck", body: check(light) },
      { kind: "lightRecord", body: record(light) },
    ],
    { rate: TIMED_RATE, seconds, accept: noErrors },
  );
  const { write } = await background;
  const failures = write.failures + Object.values(timed).reduce((sum, result) => sum + result.failures, 0);
  return {
    /** The server did not keep up with the writing: the latencies are mostly queueing, and the ratios say little. */
    saturated: write.rps < 0.97 * WRITES_PER_S || failures > 0,
    records,
    checkP50Ratio: ratio(timed.heavyCheck.p50, timed.lightCheck.p50),
    checkP99Ratio: ratio(timed.heavyCheck.p99, timed.lightCheck.p99),
    recordP50Ratio: ratio(timed.heavyRecord.p50, timed.lightRecord.p50),
    recordP99Ratio: ratio(timed.heavyRecord.p99, timed.lightRecord.p99),
    heavy: { check: latencies(timed.heavyCheck), record: latencies(timed.heavyRecord) },
    light: { check: latencies(timed.lightCheck), record: latencies(timed.lightRecord) },
    /** The background writing, as achieved: its rate and its own latency. */
    background: { targetRps: WRITES_PER_S, rps: write.rps, p50: write.p50, p99: write.p99 },
    failures,
  };
}
