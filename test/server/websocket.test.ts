// graphql-ws clients on the listening server: the same auth and events as HTTP and SSE.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { graphql } from "../helpers/process.ts";

const key = "ent_websocket-test-key-0123456789abcdef";
const dataDir = mkdtempSync(join(tmpdir(), "entitlements-ws-"));
let server: RunningServer;
beforeAll(async () => {
  server = await startServer(
    loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, BOOTSTRAP_API_KEY: key, SEED_DEMO: "false" }),
    createLogger("silent"),
  );
  const setup = await graphql(server.url, key, `mutation {
    f: createFeature(input: { key: "sso", name: "SSO", type: BOOLEAN }) { id }
    c: createCustomer(input: { externalId: "ws-1" }) { id }
  }`);
  expect(setup.errors).toBeUndefined();
});
afterAll(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const client = (authorization: string): Client =>
  createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0 });

/** The first event of a subscription, or its error. */
function firstEvent(ws: Client, query: string): { ready: Promise<void>; event: Promise<any> } {
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const event = new Promise((resolve, reject) => {
    const stop = ws.subscribe({ query }, {
      next: (value) => {
        stop();
        resolve(value);
      },
      error: reject,
      complete: () => {},
    });
    // graphql-ws acknowledges the connection before the subscription is registered server-side.
    setTimeout(markReady, 150);
  });
  return { ready, event };
}

describe("graphql-ws on /graphql", () => {
  it("delivers a grant's change to a subscriber authenticated with connection parameters", async () => {
    const ws = client(`Bearer ${key}`);
    try {
      const { ready, event } = firstEvent(ws, `subscription { entitlementsChanged(customer: { externalId: "ws-1" }) { cause changedFeatureKeys customer { externalId } } }`);
      await ready;
      const granted = await graphql(server.url, key, `mutation { createGrant(input: { customer: { externalId: "ws-1" }, featureKey: "sso" }) { id } }`);
      expect(granted.errors).toBeUndefined();
      expect((await event).data.entitlementsChanged).toEqual({ cause: "GRANT_CHANGED", changedFeatureKeys: ["sso"], customer: { externalId: "ws-1" } });
    } finally {
      await ws.dispose();
    }
  });

  it("refuses a subscriber without a valid key", async () => {
    const ws = client("Bearer ent_wrong");
    try {
      const { event } = firstEvent(ws, `subscription { entitlementsChanged { cause } }`);
      const outcome = await event.catch((errors) => ({ errors }));
      expect(JSON.stringify(outcome)).toContain("UNAUTHENTICATED");
    } finally {
      await ws.dispose();
    }
  });
});
