// The server process (`npm start`'s entry) runs the webhook delivery worker: an event logged
// in its database reaches a receiver, signed, and /metrics counts the attempt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { appendEvents } from "../../src/db/event-log.ts";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { graphql, startServerProcess, type ServerProcess } from "../helpers/process.ts";
import { waitUntil } from "../helpers/wait.ts";
import { startReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.ts";

const key = "ent_webhooks-test-key-0123456789abcdef";
let temporary: Awaited<ReturnType<typeof createTemporaryDatabase>>;
let server: ServerProcess;
let database: Database;
let hook: WebhookReceiver;

beforeAll(async () => {
  temporary = await createTemporaryDatabase("entitlements_webhooks");
  server = await startServerProcess({
    DATABASE_URL: temporary.url,
    BOOTSTRAP_API_KEY: key,
    SEED_DEMO: "false",
    LOG_LEVEL: "debug",
    WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    WEBHOOK_POLL_INTERVAL_MS: "50",
    WEBHOOK_RETRY_SCHEDULE: "100ms,100ms",
  });
  database = openDatabase({ kind: "postgres", url: temporary.url, poolSize: 2 });
  hook = await startReceiver((response, n) => response.writeHead(n === 0 ? 500 : 200).end());
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await hook?.close();
  await database?.close();
  await temporary?.drop();
});

describe("the server's delivery worker", () => {
  it("delivers a logged event, retrying once, counts it at /metrics, and logs no secret", async () => {
    const created = await graphql(
      server.url,
      key,
      `mutation ($url: String!) { createWebhookEndpoint(input: { url: $url }) { signingSecret endpoint { id } } }`,
      { url: hook.url },
    );
    const { signingSecret } = created.data.createWebhookEndpoint;
    hook.secret = signingSecret;
    const customer = await graphql(server.url, key, `mutation { createCustomer(input: { externalId: "acme" }) { id } }`);
    expect(customer.errors).toBeUndefined();
    const { projectId, id: customerId } = await database.prisma.customer.findFirstOrThrow({ where: { externalId: "acme" } });

    const [event] = await database.prisma.$transaction((tx) =>
      appendEvents(tx, projectId, [
        {
          customerId,
          type: "USAGE_THRESHOLD_REACHED",
          featureKeys: ["seats"],
          occurredAt: new Date().toISOString(),
          data: { featureKey: "seats", threshold: 100, used: 10, usageLimit: 10, periodStart: null, periodEnd: null },
        },
      ]),
    );

    await waitUntil(() => hook.received.length === 2, { timeoutMs: 10_000, what: "two attempts at the receiver" });
    expect(hook.received.every((request) => request.verified && request.headers["webhook-id"] === event!.id)).toBe(true);
    const metrics = await waitUntil(async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return text.includes('entitlements_webhook_attempts_total{status="SUCCEEDED"} 1') && text;
    });
    expect(metrics).toContain('entitlements_webhook_attempts_total{status="PENDING"} 1');
    expect(metrics).toContain("entitlements_webhook_queue_depth 0");
    expect(server.output()).toContain("webhook attempt failed");
    expect(server.output()).not.toContain(signingSecret.slice("whsec_".length));
  });
});
