import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";

describe("configuration of what a request may ask", () => {
  it("keeps the defaults for unset limits and takes the ones set", () => {
    expect(loadConfig({}).limits).toEqual({});
    expect(
      loadConfig({ GRAPHQL_MAX_DEPTH: "8", GRAPHQL_MAX_COST: "5000", GRAPHQL_MAX_BODY_BYTES: "65536", GRAPHQL_MAX_NODE_IDS: "25" }).limits,
    ).toEqual({
      maxDepth: 8,
      maxCost: 5000,
      maxBodyBytes: 65536,
      maxNodeIds: 25,
    });
    expect(loadConfig({}).batchLimit).toBe(10);
    expect(loadConfig({ GRAPHQL_BATCH_LIMIT: "0" }).batchLimit).toBe(0);
  });

  it("switches introspection and GraphiQL off in production unless asked for, and on elsewhere", () => {
    expect(loadConfig({})).toMatchObject({ introspection: true, graphiql: true });
    expect(loadConfig({ NODE_ENV: "production" })).toMatchObject({ introspection: false, graphiql: false });
    expect(loadConfig({ NODE_ENV: "production", GRAPHIQL: "true", GRAPHQL_INTROSPECTION: "yes" })).toMatchObject({
      introspection: true,
      graphiql: true,
    });
    expect(loadConfig({ GRAPHQL_INTROSPECTION: "false" })).toMatchObject({ introspection: false, graphiql: true });
  });

  it("names the variable of a value it cannot take", () => {
    expect(() => loadConfig({ GRAPHQL_MAX_DEPTH: "0" })).toThrow(/GRAPHQL_MAX_DEPTH/);
    expect(() => loadConfig({ GRAPHQL_MAX_COST: "lots" })).toThrow(/GRAPHQL_MAX_COST/);
    expect(() => loadConfig({ GRAPHIQL: "maybe" })).toThrow(/GRAPHIQL/);
  });
});

describe("configuration of webhook deliveries", () => {
  it("defaults to a 10 s timeout, the 5s…10h schedule and the address guard on", () => {
    const hour = 3_600_000;
    expect(loadConfig({}).webhooks).toEqual({
      timeoutMs: 10_000,
      retryScheduleMs: [5000, 300_000, 1_800_000, 2 * hour, 5 * hour, 10 * hour, 10 * hour],
      allowPrivateUrls: false,
      pollIntervalMs: 500,
      concurrency: 8,
      leaseMs: 40_000,
    });
  });

  it("reads a schedule of durations with units, and refuses one without", () => {
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: "500ms, 1s,5s,5m,2h" }).webhooks.retryScheduleMs).toEqual([
      500, 1000, 5000, 300_000, 7_200_000,
    ]);
    for (const schedule of ["5", "5s,,5m", "5d", "-5s", "5s;5m"]) {
      expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: schedule }), schedule).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    }
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "true", WEBHOOK_TIMEOUT_MS: "250" }).webhooks).toMatchObject({
      allowPrivateUrls: true,
      timeoutMs: 250,
      leaseMs: 30_250,
    });
  });

  it("refuses a lease no longer than an attempt may take (a second instance would take a delivery still under way)", () => {
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: "5000", WEBHOOK_LEASE_MS: "5000" })).toThrow(/WEBHOOK_LEASE_MS/);
    expect(loadConfig({ WEBHOOK_TIMEOUT_MS: "5000", WEBHOOK_LEASE_MS: "5001" }).webhooks.leaseMs).toBe(5001);
  });
});

describe("configuration of the event log", () => {
  it("keeps events 30 days, polls the log every second and leases jobs for 30 s unless told otherwise", () => {
    expect(loadConfig({})).toMatchObject({ eventRetentionDays: 30, eventPollIntervalMs: 1000, eventJobLeaseMs: 30_000 });
    expect(loadConfig({ EVENT_RETENTION_DAYS: "7", EVENT_JOB_LEASE_MS: "3000" })).toMatchObject({
      eventRetentionDays: 7,
      eventJobLeaseMs: 3000,
    });
    expect(() => loadConfig({ EVENT_RETENTION_DAYS: "0" })).toThrow(/EVENT_RETENTION_DAYS/);
  });
});
