// The full run's measures, each on a running target: the floor's Q1 and Q3, a query's
// profile (throughput at 1, 16 and 64 connections, latency at a fixed rate, SQL statements
// per request), Q2's SQL statements by page size, and Q4's consumption under contention.
import { closedLoop, openLoop, warmUp, type Endpoint, type LoadResult } from "./load.ts";
import { log } from "./log.ts";
import { expectShape, gqlBody, post, Q2, Q4 } from "./queries.ts";
import { sqlStatementsDuring } from "./server-metrics.ts";
import { median } from "./statistics.ts";
import type { Workload } from "./workload.ts";

const urlOf = ({ baseUrl, path }: Endpoint) => `${baseUrl}${path}`;

/** The floor's Q1 and Q3 at 16 connections, and its Q3 latency at `q3Rate` (what this machine allows at the rate ours is judged at). */
export async function measureFloor(floorUrl: string, workload: Workload, { q3Rate, seconds }: { q3Rate: number; seconds: number }) {
  const q1: Endpoint = { baseUrl: floorUrl, path: "/q1" };
  const q3: Endpoint = { baseUrl: floorUrl, path: "/q3" };
  expectShape("floor Q1", await post(urlOf(q1), workload.floorQ1Bodies[0]!), (data) => Array.isArray(data) && data.length > 0);
  expectShape("floor Q3", await post(urlOf(q3), workload.floorQ3Bodies[0]!), (data) => typeof data.allowed === "boolean");
  log("floor: Q1, Q3 at 16 connections");
  await warmUp(q1, workload.floorQ1Bodies, seconds);
  return {
    q1: await closedLoop(q1, workload.floorQ1Bodies, { connections: 16, seconds }),
    q3: await closedLoop(q3, workload.floorQ3Bodies, { connections: 16, seconds }),
    q3AtRate: await openLoop(q3, workload.floorQ3Bodies, { rate: q3Rate, seconds }),
  };
}

/** rps at 1, 16 and 64 connections, latency at a fixed rate, SQL statements per request. */
export async function profileQuery(name: string, api: Endpoint, bodies: string[], { rate, seconds }: { rate: number; seconds: number }) {
  log(`${name}: 1, 16, 64 connections; ${rate} req/s`);
  await warmUp(api, bodies, seconds);
  const one = await closedLoop(api, bodies, { connections: 1, seconds });
  const { result: sixteen, statements } = await sqlStatementsDuring(api.baseUrl, () =>
    closedLoop(api, bodies, { connections: 16, seconds }),
  );
  const sixtyFour = await closedLoop(api, bodies, { connections: 64, seconds });
  const fixed = await openLoop(api, bodies, { rate, seconds });
  const failures = one.failures + sixteen.failures + sixtyFour.failures + fixed.failures;
  if (failures > 0) throw new Error(`${name}: ${failures} failed requests`);
  return {
    rps1: one.rps,
    rps16: sixteen.rps,
    rps64: sixtyFour.rps,
    rate,
    p50ms: fixed.p50,
    p99ms: fixed.p99,
    sqlPerRequest: Math.round((statements / sixteen.requests) * 100) / 100,
  };
}

/** SQL statements for one Q2 page of 1, 10 and 100 customers. */
export async function q2StatementsByPageSize(api: Endpoint): Promise<Record<number, number>> {
  const bySize: Record<number, number> = {};
  for (const n of [1, 10, 100]) {
    const body = gqlBody(Q2, { n });
    expectShape("Q2", await post(urlOf(api), body, api.headers), (data) => data.customers?.edges?.length === n);
    // The median of five: a cache entry reaching its TTL in between costs one request a reload.
    const counts: number[] = [];
    for (let round = 0; round < 5; round++)
      counts.push((await sqlStatementsDuring(api.baseUrl, () => post(urlOf(api), body, api.headers))).statements);
    bySize[n] = median(counts);
  }
  return bySize;
}

/**
 * Consumption at 16 connections on ten customers with a hard limit of 100 (and, with
 * `credits`, a CREDIT grant of that amount each: past the limit every consume draws on it);
 * `overLimit` counts those whose usage went past what they were given.
 */
export async function consumeUnderContention(
  api: Endpoint,
  featureKey: string,
  seconds: number,
  /** Names the contended customers: each run of --compare has its own. */
  prefix = "q4",
  credits = 0,
): Promise<{ load: LoadResult; overLimit: number }> {
  const contended = Array.from({ length: 10 }, (_, i) => `${prefix}-${i}`);
  for (const c of contended) {
    expectShape(
      "Q4 setup",
      await post(
        urlOf(api),
        gqlBody(
          `mutation ($c: String!, $f: String!, $credit: Boolean!, $amount: Float) {
      a: createCustomer(input: { externalId: $c }) { id }
      b: createGrant(input: { customer: { externalId: $c }, featureKey: $f, usageLimit: 100 }) { id }
      c: createGrant(input: { customer: { externalId: $c }, featureKey: $f, kind: CREDIT, amount: $amount }) @include(if: $credit) { id }
    }`,
          { c, f: featureKey, credit: credits > 0, amount: credits > 0 ? credits : null },
        ),
        api.headers,
      ),
      (data) => Boolean(data.b?.id),
    );
  }
  const bodies = Array.from({ length: 1000 }, (_, i) => gqlBody(Q4, { c: contended[i % contended.length], f: featureKey }));
  log("Q4: 16 connections");
  const load = await closedLoop(api, bodies, { connections: 16, seconds });
  let overLimit = 0;
  for (const c of contended) {
    const check = await post(
      urlOf(api),
      gqlBody(
        `query ($c: String!, $f: String!) { customer(externalId: $c) { entitlement(featureKey: $f) { usageLimit usage { used } } } }`,
        { c, f: featureKey },
      ),
      api.headers,
    );
    const entitlement = check.data?.customer?.entitlement;
    if (!entitlement || entitlement.usage.used > entitlement.usageLimit + credits) overLimit++;
  }
  return { load, overLimit };
}
