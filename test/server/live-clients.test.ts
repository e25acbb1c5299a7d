// Real clients on the listening server — GraphQL over SSE (fetch) and graphql-ws (ws) on the
// same /graphql path — each hearing the four changes a service cares about: a grant, a plan
// entitlement edited, a trial ending on its own (no write at that instant), and a hard
// limit reached by usage.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { graphql } from "../helpers/process.ts";
import { subscribeSse } from "../helpers/sse.ts";

const key = "ent_live-clients-test-key-0123456789abcdef";
const dataDir = mkdtempSync(join(tmpdir(), "entitlements-live-"));
let server: RunningServer;

const SUBSCRIBE = `subscription ($c: CustomerRef!) {
  entitlementsChanged(customer: $c) {
    cause changedFeatureKeys occurredAt customer { externalId }
    entitlements { featureKey usageLimit hasAccess usage { used } }
  }
}`;

interface LiveSubscription {
  /** The next event's `entitlementsChanged`; rejects with the errors or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}
type Transport = (authorization: string, variables: Record<string, unknown>, query?: string) => Promise<LiveSubscription>;

const overSse: Transport = async (authorization, variables, query = SUBSCRIBE) => {
  const subscription = await subscribeSse(fetch, `${server.url}/graphql`, authorization, query, variables);
  return {
    async next(timeoutMs) {
      const result = await subscription.next(timeoutMs);
      if (result.errors) throw result.errors;
      return result.data.entitlementsChanged;
    },
    close: subscription.close,
  };
};

const overWebSocket: Transport = async (authorization, variables, query = SUBSCRIBE) => {
  const client = createClient({
    url: `${server.url.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${authorization}` },
    retryAttempts: 0,
  });
  const queue: { value?: any; error?: unknown }[] = [];
  let wake: () => void = () => {};
  client.subscribe({ query, variables }, {
    next: (value) => {
      queue.push(value.errors ? { error: value.errors } : { value: value.data?.entitlementsChanged });
      wake();
    },
    error: (error) => {
      queue.push({ error });
      wake();
    },
    complete: () => {},
  });
  return {
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.max(0, deadline - Date.now()));
        });
      }
      const item = queue.shift()!;
      if (item.error) throw item.error;
      return item.value;
    },
    close: () => client.dispose() as Promise<void>,
  };
};

const run = async (query: string, variables?: Record<string, unknown>) => {
  const result = await graphql(server.url, key, query, variables);
  expect(result.errors).toBeUndefined();
  return result.data;
};

beforeAll(async () => {
  server = await startServer(
    loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, BOOTSTRAP_API_KEY: key, SEED_DEMO: "false", LOG_LEVEL: "silent" }),
    createLogger("silent"),
  );
  await run(`mutation {
    a: createFeature(input: { key: "sso", name: "SSO", type: BOOLEAN }) { id }
    b: createFeature(input: { key: "exports", name: "Exports", type: METERED }) { id }
  }`);
});
afterAll(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.each([
  ["SSE", overSse],
  ["graphql-ws", overWebSocket],
] as const)("entitlementsChanged over %s", (name, transport) => {
  const customer = `${name}-customer`;
  const open: LiveSubscription[] = [];
  let planId: string;
  let events: LiveSubscription;

  beforeAll(async () => {
    planId = (await run(`mutation ($key: String!) { createPlan(input: { key: $key, name: "Team" }) { id } }`, { key: `team-${name}` })).createPlan.id;
    await run(`mutation ($p: ID!, $c: String!) {
      e: setPlanEntitlement(input: { planId: $p, featureKey: "exports", usageLimit: 2 }) { id }
      c: createCustomer(input: { externalId: $c }) { id }
    }`, { p: planId, c: customer });
    await run(`mutation ($p: ID!, $c: String!) { createSubscription(input: { customer: { externalId: $c }, planId: $p }) { id } }`, { p: planId, c: customer });
    events = await transport(key, { c: { externalId: customer } });
    open.push(events);
    // The server registers the subscriber a moment after the client sends it.
    await new Promise((resolve) => setTimeout(resolve, 150));
  });
  afterAll(() => Promise.all(open.map((subscription) => subscription.close())));

  it("hears a grant created", async () => {
    await run(`mutation ($c: String!) { createGrant(input: { customer: { externalId: $c }, featureKey: "sso" }) { id } }`, { c: customer });
    const event = await events.next();
    expect(event).toMatchObject({ cause: "GRANT_CHANGED", changedFeatureKeys: ["sso"], customer: { externalId: customer } });
    expect(event.entitlements.map((entitlement: { featureKey: string }) => entitlement.featureKey)).toEqual(["exports", "sso"]);
  });

  it("hears a plan entitlement changed", async () => {
    await run(`mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "exports", usageLimit: 3 }) { id } }`, { p: planId });
    const event = await events.next();
    expect(event).toMatchObject({ cause: "CATALOG_CHANGED", changedFeatureKeys: ["exports"] });
    expect(event.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 3, hasAccess: true, usage: { used: 0 } });
  });

  it("hears a hard limit reached by usage, once", async () => {
    for (let i = 0; i < 3; i++) {
      await run(`mutation ($c: String!) { recordUsage(input: { customer: { externalId: $c }, featureKey: "exports" }) { id } }`, { c: customer });
    }
    const event = await events.next();
    expect(event).toMatchObject({ cause: "USAGE_CHANGED", changedFeatureKeys: ["exports"] });
    expect(event.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 3, hasAccess: false, usage: { used: 3 } });
  });

  it("hears a trial end on its own within 2 seconds", async () => {
    const trialEnds = new Date(Date.now() + 1200);
    const trialist = `${name}-trialist`;
    await run(`mutation ($c: String!) { createCustomer(input: { externalId: $c }) { id } }`, { c: trialist });
    const trial = await transport(key, { c: { externalId: trialist } });
    open.push(trial);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // A trial nobody converted: the subscription ends with it.
    await run(`mutation ($p: ID!, $c: String!, $end: DateTime!) {
      createSubscription(input: { customer: { externalId: $c }, planId: $p, trialEndsAt: $end, endsAt: $end }) { id }
    }`, { p: planId, c: trialist, end: trialEnds.toISOString() });
    const started = await trial.next();
    expect(started).toMatchObject({ cause: "SUBSCRIPTION_CHANGED", changedFeatureKeys: ["exports"] });

    const ended = await trial.next(5000);
    const lateByMs = Date.now() - trialEnds.getTime();
    expect(ended).toMatchObject({ cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["exports"], occurredAt: trialEnds.toISOString(), entitlements: [] });
    expect(lateByMs).toBeGreaterThanOrEqual(0);
    expect(lateByMs).toBeLessThan(2000);
  });

  it("refuses a subscriber without a valid key", async () => {
    const outcome = await transport("ent_wrong", { c: { externalId: customer } })
      .then((subscription) => {
        open.push(subscription);
        return subscription.next();
      })
      .then(
        (event) => `an event: ${JSON.stringify(event)}`,
        (error: unknown) => (error instanceof Error ? error.message : JSON.stringify(error)),
      );
    expect(outcome).toContain("UNAUTHENTICATED");
  });
});
