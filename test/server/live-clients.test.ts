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
import { PROBE_FEATURE, probeUntilHeard, withoutProbe } from "../helpers/probe.ts";
import { graphql } from "../helpers/process.ts";
import { seed, type Gql } from "../helpers/seed.ts";
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
  client.subscribe(
    { query, variables },
    {
      next: (value) => {
        queue.push(value.errors ? { error: value.errors } : { value: value.data?.entitlementsChanged });
        wake();
      },
      error: (error) => {
        queue.push({ error });
        wake();
      },
      complete: () => {},
    },
  );
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

const gql: Gql = (query, variables) => graphql(server.url, key, query, variables);
const s = seed(gql);

/** A subscriber of `customer` on `transport`, registered by the server before this returns. */
async function listening(transport: Transport, customer: string): Promise<LiveSubscription> {
  const subscription = await transport(key, { c: { externalId: customer } });
  await probeUntilHeard({ seed: s, gql, customer, next: subscription.next });
  return { next: withoutProbe(subscription.next), close: subscription.close };
}

beforeAll(async () => {
  server = await startServer(
    loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, BOOTSTRAP_API_KEY: key, SEED_DEMO: "false", LOG_LEVEL: "silent" }),
    createLogger("silent"),
  );
  await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" });
  await s.feature({ key: "exports", name: "Exports", type: "METERED" });
  await s.feature(PROBE_FEATURE);
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
    planId = (await s.plan({ key: `team-${name}`, name: "Team", entitlements: { exports: { usageLimit: 2 } } })).id;
    await s.customer(customer);
    await s.subscription(customer, { planId });
    events = await listening(transport, customer);
    open.push(events);
  });
  afterAll(() => Promise.all(open.map((subscription) => subscription.close())));

  it("hears a grant created", async () => {
    await s.grant(customer, { featureKey: "sso" });
    const event = await events.next();
    expect(event).toMatchObject({ cause: "GRANT_CHANGED", changedFeatureKeys: ["sso"], customer: { externalId: customer } });
    expect(event.entitlements.map((entitlement: { featureKey: string }) => entitlement.featureKey)).toEqual(["exports", "sso"]);
  });

  it("hears a plan entitlement changed", async () => {
    await s.entitlement(planId, "exports", { usageLimit: 3 });
    const event = await events.next();
    expect(event).toMatchObject({ cause: "CATALOG_CHANGED", changedFeatureKeys: ["exports"] });
    expect(event.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 3, hasAccess: true, usage: { used: 0 } });
  });

  it("hears a hard limit reached by usage, once", async () => {
    for (let i = 0; i < 3; i++) await s.usage(customer, { featureKey: "exports" });
    // The first event is the third record's: the two before it, within the limit, were not told.
    const event = await events.next();
    expect(event).toMatchObject({ cause: "USAGE_CHANGED", changedFeatureKeys: ["exports"] });
    expect(event.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 3, hasAccess: false, usage: { used: 3 } });
    // Freeing it is told next, and nothing came between: the limit was told once.
    await s.usage(customer, { featureKey: "exports", quantity: -3 });
    const freed = await events.next();
    expect(freed).toMatchObject({ cause: "USAGE_CHANGED", changedFeatureKeys: ["exports"] });
    expect(freed.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 3, hasAccess: true, usage: { used: 0 } });
  });

  it("hears a trial end on its own within 2 seconds", async () => {
    const trialist = `${name}-trialist`;
    await s.customer(trialist);
    const trial = await listening(transport, trialist);
    open.push(trial);
    const trialEnds = new Date(Date.now() + 1200);
    // A trial nobody converted: the subscription ends with it.
    await s.subscription(trialist, { planId, trialEndsAt: trialEnds, endsAt: trialEnds });
    const started = await trial.next();
    expect(started).toMatchObject({ cause: "SUBSCRIPTION_CHANGED", changedFeatureKeys: ["exports"] });

    const ended = await trial.next(5000);
    const lateByMs = Date.now() - trialEnds.getTime();
    expect(ended).toMatchObject({
      cause: "SCHEDULED_TRANSITION",
      changedFeatureKeys: ["exports"],
      occurredAt: trialEnds.toISOString(),
      entitlements: [],
    });
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
