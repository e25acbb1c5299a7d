// /metrics: the counters an operator scrapes, in Prometheus's text format.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { SqlCounter } from "../helpers/sql-counter.ts";

let t: TestApp;
const counter = new SqlCounter();
beforeAll(async () => {
  t = await createTestApp({ sqlCounter: counter });
});
afterAll(() => t.close());

const scrape = async () => {
  const response = await t.app.fetch("http://test/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
};
const metricValue = (text: string, name: string) => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
};

describe("/metrics", () => {
  it("counts every SQL statement the API sends, as the statement counter sees them", async () => {
    const before = metricValue(await scrape(), "entitlements_sql_statements_total")!;
    counter.reset();
    ok(await t.gql(`mutation { createCustomer(input: { externalId: "metrics-1" }) { id } }`));
    ok(await t.gql(`{ customer(externalId: "metrics-1") { entitlements { featureKey } } }`));
    const after = metricValue(await scrape(), "entitlements_sql_statements_total")!;
    expect(counter.count).toBeGreaterThan(2);
    expect(after - before).toBe(counter.count);
  });

  it("reports the process's memory", async () => {
    expect(metricValue(await scrape(), "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
  });
});
