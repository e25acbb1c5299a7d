// Budgets per credential over HTTP: RATE_LIMITED with 429, Retry-After and retryAfterMs once
// a key has spent its budget; usage recording has a budget of its own, counted in records;
// another key, or another customer's token, is not affected; a refused write writes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRateLimiter } from "../../src/limits/rate-limits.ts";
import { createTestApp, firstError, ok, type GraphQLResponse, type TestApp } from "../helpers/app.ts";

let t: TestApp;
const budget = { requests: { points: 5, windowSeconds: 60 }, usage: { points: 3, windowSeconds: 60 } };

beforeAll(async () => {
  t = await createTestApp({ rateLimiter: createRateLimiter(budget) });
});
afterAll(() => t.close());

async function call(key: string, query: string) {
  const response = await t.app.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as GraphQLResponse };
}

describe("rate limits per credential", () => {
  it("refuse a key's operations past its budget with RATE_LIMITED, 429 and a retry hint, while usage has its own budget and other keys their own", async () => {
    const { key } = await t.newProject("rate-limited");
    const setup = await call(
      key,
      `mutation {
      f: createFeature(input: { key: "api-calls", name: "API calls", type: METERED }) { id }
      c: createCustomer(input: { externalId: "acme" }) { id }
      g: createGrant(input: { customer: { externalId: "acme" }, featureKey: "api-calls", usageLimit: 100 }) { id }
      other: createApiKey(input: { name: "other", scopes: [READ] }) { secret }
      token: createCustomerToken(customer: { externalId: "acme" }) { token }
    }`,
    );
    const { other, token } = ok(setup.body);

    for (let i = 0; i < 4; i++) expect((await call(key, `{ features(first: 1) { totalCount } }`)).status).toBe(200);
    const refused = await call(key, `{ features(first: 1) { totalCount } }`);
    expect(refused.status).toBe(429);
    expect(firstError(refused.body).code).toBe("RATE_LIMITED");
    const { retryAfterMs, budget: spent } = refused.body.errors![0]!.extensions as { retryAfterMs: number; budget: string };
    expect(spent).toBe("requests");
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(Number(refused.retryAfter)).toBe(Math.ceil(retryAfterMs / 1000));
    expect(refused.body.data ?? null).toBeNull();

    // Usage recording still goes through on its own budget, a record a point (aliases too),
    // and is refused past it, writing nothing.
    const record = (n: number) =>
      call(key, `mutation { recordUsage(input: { customer: { externalId: "acme" }, featureKey: "api-calls", quantity: ${n} }) { id } }`);
    const recordTwice = (n: number) =>
      call(
        key,
        `mutation {
        a: recordUsage(input: { customer: { externalId: "acme" }, featureKey: "api-calls", quantity: ${n} }) { id }
        b: recordUsage(input: { customer: { externalId: "acme" }, featureKey: "api-calls", quantity: ${n} }) { id }
      }`,
      );
    ok((await record(1)).body);
    ok((await recordTwice(1)).body);
    const twiceRefused = await recordTwice(50);
    expect(twiceRefused.status).toBe(429);
    expect(twiceRefused.body.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", budget: "usage" });
    const usageRefused = await record(50);
    expect(usageRefused.status).toBe(429);
    expect(usageRefused.body.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", budget: "usage" });

    // Another key of the project, and a customer token, have budgets of their own: they read the 3 recorded.
    const used = `{ customer(externalId: "acme") { entitlement(featureKey: "api-calls") { usage { used } } } }`;
    expect(ok((await call(other.secret, used)).body).customer.entitlement.usage.used).toBe(3);
    expect(ok((await call(token.token, used)).body).customer.entitlement.usage.used).toBe(3);
  });

  it("count each record of a recordUsages call, refusing a call over what is left as a whole", async () => {
    const { key } = await t.newProject("rate-records");
    ok(
      (
        await call(
          key,
          `mutation {
        f: createFeature(input: { key: "tokens", name: "Tokens", type: METERED }) { id }
        c: createCustomer(input: { externalId: "acme" }) { id }
      }`,
        )
      ).body,
    );
    const records = (n: number) =>
      call(
        key,
        `mutation { recordUsages(records: [${Array.from({ length: n }, () => `{ customer: { externalId: "acme" }, featureKey: "tokens", quantity: 10 }`).join(", ")}]) { recordedCount } }`,
      );
    const stored = () => t.database.prisma.usageRecord.count({ where: { project: { name: "rate-records" } } });
    expect(ok((await records(2)).body).recordUsages.recordedCount).toBe(2);
    // One point is left: two records are refused together, and neither is stored.
    const refused = await records(2);
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", budget: "usage" });
    expect(await stored()).toBe(2);
    expect(ok((await records(1)).body).recordUsages.recordedCount).toBe(1);
    expect((await records(1)).status).toBe(429);
    expect(await stored()).toBe(3);
  });

  it("count every operation of a batch", async () => {
    const { key } = await t.newProject("rate-batched");
    const response = await t.app.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify(Array.from({ length: 7 }, () => ({ query: `{ __typename }` }))),
    });
    const results = (await response.json()) as GraphQLResponse[];
    expect(results.map((result) => result.errors?.[0]?.extensions?.code ?? "ok")).toEqual([
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "RATE_LIMITED",
      "RATE_LIMITED",
    ]);
  });
});
