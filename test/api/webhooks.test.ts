// Webhooks end to end (docs/rules.md §6): endpoints registered through the API, events logged
// as the mutations log them (appendEvents in a transaction), the delivery worker POSTing to
// real receivers on 127.0.0.1, and what the API then shows of each delivery.
import { Writable } from "node:stream";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { Registry } from "prom-client";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appendEvents, readEvents } from "../../src/db/event-log.ts";
import { claimDueDeliveries } from "../../src/db/webhook-deliveries.ts";
import { openDatabase } from "../../src/db/client.ts";
import type { NewEvent } from "../../src/events/logged-event.ts";
import { createLogger } from "../../src/logger.ts";
import { createWebhookMetrics } from "../../src/metrics.ts";
import type { AddressPolicy, Resolver } from "../../src/net/public-address.ts";
import { MAX_RESPONSE_BYTES } from "../../src/net/webhook-request.ts";
import type { WebhookSettings } from "../../src/services/webhook-deliveries.ts";
import { startWebhookDelivery, type WebhookDeliveryWorker } from "../../src/workers/webhook-delivery.ts";
import { createTestApp, databaseKind, firstError, ok, type TestApp } from "../helpers/app.ts";
import { waitUntil } from "../helpers/wait.ts";
import { answerWith, startReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.ts";

// Everything the app and the workers log, to prove no secret is ever in it.
let logged = "";
const log = createLogger(
  "debug",
  new Writable({
    write(chunk, _encoding, done) {
      logged += chunk;
      done();
    },
  }),
);

/** Names this test's resolver knows: a public-looking one, and one that rebinds to loopback after its first answer. */
let rebindLookups = 0;
const testResolver: Resolver = async (host) => {
  if (host === "hooks.example.com") return [{ address: "93.184.215.14", family: 4 }];
  if (host === "localhost") return [{ address: "127.0.0.1", family: 4 }];
  if (host === "rebind.example.com") return [{ address: rebindLookups++ === 0 ? "93.184.215.14" : "127.0.0.1", family: 4 }];
  throw Object.assign(new Error(`no such host ${host}`), { code: "ENOTFOUND" });
};
// The registration policy the app checks URLs with; the address-guard tests turn the guard on.
const registration: AddressPolicy = { allowPrivate: true, resolve: testResolver };

let t: TestApp;
const workers: WebhookDeliveryWorker[] = [];
const receivers: WebhookReceiver[] = [];
const issuedSecrets: string[] = [];

beforeAll(async () => {
  // A database of its own on PostgreSQL: the workers claim every project's deliveries.
  t = await createTestApp({ log, ownDatabase: true, webhookAddresses: registration });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  // What a test left pending is no later test's business.
  await t.database.prisma.webhookEndpoint.updateMany({ data: { status: "DISABLED" } });
});
afterAll(async () => {
  await t?.close();
});

const FAST: WebhookSettings = {
  timeoutMs: 2000,
  retryScheduleMs: [100, 100, 100],
  allowPrivateUrls: true,
  pollIntervalMs: 50,
  concurrency: 8,
  leaseMs: 5000,
};

function worker(settings: Partial<WebhookSettings> = {}, options: Partial<Parameters<typeof startWebhookDelivery>[0]> = {}) {
  const started = startWebhookDelivery({ prisma: t.database.prisma, log, settings: { ...FAST, ...settings }, ...options });
  workers.push(started);
  return started;
}

async function receiver(...args: Parameters<typeof startReceiver>) {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

const ENDPOINT_FIELDS = "id url description eventTypes status createdAt updatedAt";
const DELIVERY_FIELDS = "id eventId eventType status attempts lastAttemptAt nextAttemptAt lastResponseStatus lastError createdAt";

/** A project of its own with one customer, so that each test's endpoints see only its events. */
async function project() {
  const { projectId, key } = await t.newProject();
  const gql = (query: string, variables?: Record<string, unknown>) => t.gql(query, variables, { key });
  const created = ok(await gql(`mutation { createCustomer(input: { externalId: "acme" }) { id } }`)).createCustomer;
  const customerId = decodeGlobalID(created.id).id;

  const createEndpoint = async (url: string, extra: Record<string, unknown> = {}) => {
    const result = ok(
      await gql(
        `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { signingSecret endpoint { ${ENDPOINT_FIELDS} } } }`,
        { input: { url, ...extra } },
      ),
    ).createWebhookEndpoint;
    issuedSecrets.push(result.signingSecret);
    return { ...result.endpoint, secret: result.signingSecret as string };
  };

  const entitlementsChanged = (n: number): NewEvent => ({
    customerId,
    type: "ENTITLEMENTS_CHANGED",
    featureKeys: ["seats"],
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    data: { cause: "GRANT_CHANGED", changedFeatureKeys: ["seats"], entitlements: [] },
  });
  const thresholdReached: NewEvent = {
    customerId,
    type: "USAGE_THRESHOLD_REACHED",
    featureKeys: ["seats"],
    occurredAt: "2026-01-02T00:00:00.000Z",
    data: { featureKey: "seats", threshold: 80, used: 8, usageLimit: 10, periodStart: null, periodEnd: null },
  };
  /** Logs events as a mutation does: in a transaction, with their deliveries. */
  const logEvents = (events: NewEvent[]) => t.database.prisma.$transaction((tx) => appendEvents(tx, projectId, events));

  const deliveries = async (endpointId: string, args = "first: 100") => {
    const data = ok(
      await gql(
        `query ($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(${args}) { totalCount edges { node { ${DELIVERY_FIELDS} } } } } } }`,
        { id: endpointId },
      ),
    );
    return data.node.deliveries as { totalCount: number; edges: { node: Record<string, any> }[] };
  };
  const deliveryList = async (endpointId: string) => (await deliveries(endpointId)).edges.map((edge) => edge.node);
  const settled = (endpointId: string, count: number, statuses = ["SUCCEEDED", "FAILED"]) =>
    waitUntil(
      async () => {
        const list = await deliveryList(endpointId);
        return list.length === count && list.every((delivery) => statuses.includes(delivery.status)) ? list : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 25, what: `${count} deliveries of ${endpointId} in ${statuses.join("/")}` },
    );
  /** The endpoint's one delivery, once it has been attempted. */
  const attempted = (endpointId: string) =>
    waitUntil(async () => (await deliveryList(endpointId)).find((delivery) => delivery.attempts >= 1), {
      what: `an attempt of ${endpointId}'s delivery`,
    });
  return {
    projectId,
    key,
    gql,
    customerId,
    createEndpoint,
    entitlementsChanged,
    thresholdReached,
    logEvents,
    deliveries,
    deliveryList,
    settled,
    attempted,
  };
}

describe("delivering", () => {
  it("retries on failure with the same webhook-id, every attempt signed, until a 2xx; the API shows the attempts", async () => {
    const p = await project();
    const hook = await receiver((response, n) => response.writeHead(n < 2 ? 500 : 200).end());
    const endpoint = await p.createEndpoint(hook.url);
    hook.secret = endpoint.secret;
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry, async () => t.database.prisma.webhookDelivery.count({ where: { status: "PENDING" } }));
    worker({}, { metrics });

    const [event] = await p.logEvents([p.entitlementsChanged(1)]);
    const [delivery] = await p.settled(endpoint.id, 1);

    expect(delivery).toMatchObject({
      eventId: event!.id,
      eventType: "ENTITLEMENTS_CHANGED",
      status: "SUCCEEDED",
      attempts: 3,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(hook.received).toHaveLength(3);
    expect(hook.received.every((request) => request.verified)).toBe(true);
    expect([...hook.ids()]).toEqual([event!.id]);
    const [first] = hook.received;
    expect(first!.headers["content-type"]).toBe("application/json");
    expect(first!.headers["user-agent"]).toMatch(/^entitlements-api-webhooks\//);
    expect(Number(first!.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -2);
    expect(JSON.parse(first!.body)).toEqual({
      id: event!.id,
      type: "entitlements.changed",
      occurredAt: "2026-01-01T00:00:01.000Z",
      data: {
        id: event!.id,
        customer: { id: Buffer.from(`Customer:${p.customerId}`).toString("base64"), externalId: "acme" },
        cause: "GRANT_CHANGED",
        changedFeatureKeys: ["seats"],
        occurredAt: "2026-01-01T00:00:01.000Z",
        entitlements: [],
      },
    });
    const scraped = await registry.metrics();
    expect(scraped).toContain('entitlements_webhook_attempts_total{status="PENDING"} 2');
    expect(scraped).toContain('entitlements_webhook_attempts_total{status="SUCCEEDED"} 1');
    expect(scraped).toMatch(/entitlements_webhook_attempt_duration_seconds_count 3/);
    expect(scraped).toMatch(/entitlements_webhook_queue_depth \d+/);
  });

  it("delivers all of 100 changes made while the receiver was down, once it is up", async () => {
    const p = await project();
    const down = await startReceiver();
    const { port } = down;
    await down.close();
    const endpoint = await p.createEndpoint(`http://127.0.0.1:${port}/hooks`);
    worker({ retryScheduleMs: Array(300).fill(100) }); // half a minute of retries: longer than the 100 changes take

    // 100 real changes, each logged by its mutation: grants raising acme's limit one at a time.
    ok(await p.gql(`mutation { createFeature(input: { key: "calls", name: "Calls", type: METERED }) { id } }`));
    for (let n = 1; n <= 100; n++) {
      ok(
        await p.gql(
          `mutation ($n: Float!) { createGrant(input: { customer: { externalId: "acme" }, featureKey: "calls", usageLimit: $n }) { id } }`,
          { n },
        ),
      );
    }
    const events = await readEvents(t.database.prisma, p.projectId, null, {}, 1000);
    expect(events).toHaveLength(100);
    await waitUntil(async () => (await p.deliveryList(endpoint.id)).some((delivery) => delivery.lastError === "connection refused"), {
      what: "a refused attempt",
    });
    const hook = await receiver(answerWith(204), port);
    hook.secret = endpoint.secret;

    const delivered = await p.settled(endpoint.id, 100);
    expect(delivered.every((delivery) => delivery.status === "SUCCEEDED" && delivery.lastResponseStatus === 204)).toBe(true);
    expect(hook.ids()).toEqual(new Set(events.map((event) => event.id)));
    expect(hook.received.every((request) => request.verified)).toBe(true);
    // The last one carries the limit as its change left it: 1 + 2 + … + 100.
    const last = hook.received.find((request) => request.headers["webhook-id"] === events.at(-1)!.id)!;
    expect(JSON.parse(last.body).data.entitlements).toMatchObject([{ featureKey: "calls", usageLimit: 5050 }]);
  });

  it("counts a timeout, a redirect and an error status as failed attempts, saying which; follows no redirect; reads little of a huge answer", async () => {
    const p = await project();
    const silent = await receiver(() => undefined);
    const elsewhere = await receiver(answerWith(200));
    const redirecting = await receiver((response) => response.writeHead(302, { location: elsewhere.url }).end());
    let streamed = 0;
    let streamClosed = false;
    const flooding = (status: number) => (response: import("node:http").ServerResponse) => {
      response.writeHead(status, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(64 * 1024, "x");
      const pump = () => {
        while (!response.destroyed && streamed < 512 * 1024 * 1024) {
          streamed += chunk.length;
          if (!response.write(chunk)) return void response.once("drain", pump);
        }
      };
      response.once("close", () => (streamClosed = true));
      pump();
    };
    const hugeOk = await receiver(flooding(200));
    const hugeError = await receiver(flooding(500));
    const endpoints = {
      silent: await p.createEndpoint(silent.url),
      redirecting: await p.createEndpoint(redirecting.url),
      hugeOk: await p.createEndpoint(hugeOk.url),
      hugeError: await p.createEndpoint(hugeError.url),
    };
    worker({ timeoutMs: 300, retryScheduleMs: [60_000] });

    await p.logEvents([p.entitlementsChanged(1)]);
    const timedOut = await p.attempted(endpoints.silent.id);
    expect(timedOut).toMatchObject({ status: "PENDING", attempts: 1, lastResponseStatus: null, lastError: "timed out after 300 ms" });
    expect(new Date(timedOut.nextAttemptAt).getTime()).toBeGreaterThan(Date.now() + 50_000);

    const redirected = await p.attempted(endpoints.redirecting.id);
    expect(redirected).toMatchObject({ status: "PENDING", lastResponseStatus: 302, lastError: "redirect (HTTP 302) not followed" });
    expect(elsewhere.received).toHaveLength(0);

    const [floodedOk] = await p.settled(endpoints.hugeOk.id, 1, ["SUCCEEDED"]);
    expect(floodedOk).toMatchObject({ attempts: 1, lastResponseStatus: 200, lastError: null });
    const floodedError = await p.attempted(endpoints.hugeError.id);
    expect(floodedError).toMatchObject({ status: "PENDING", lastResponseStatus: 500, lastError: "HTTP 500" });
    // The worker hung up long before the receivers ran out of body to send.
    await waitUntil(() => streamClosed, { what: "the huge answer's connection closed" });
    expect(streamed).toBeLessThan(64 * 1024 * 1024);
    expect(MAX_RESPONSE_BYTES).toBeLessThanOrEqual(8192);
  });

  it("fails a delivery once the schedule is spent; retryWebhookDelivery queues it again, attempts counted afresh", async () => {
    const p = await project();
    const hook = await receiver(answerWith(503));
    const endpoint = await p.createEndpoint(hook.url);
    worker({ retryScheduleMs: [50, 50] });
    await p.logEvents([p.entitlementsChanged(1)]);

    const [failed] = await p.settled(endpoint.id, 1, ["FAILED"]);
    expect(failed).toMatchObject({ status: "FAILED", attempts: 3, nextAttemptAt: null, lastResponseStatus: 503, lastError: "HTTP 503" });
    expect(hook.received).toHaveLength(3);

    hook.answer = answerWith(200);
    const retried = ok(
      await p.gql(`mutation ($id: ID!) { retryWebhookDelivery(id: $id) { ${DELIVERY_FIELDS} endpoint { id } } }`, { id: failed!.id }),
    ).retryWebhookDelivery;
    expect(retried).toMatchObject({ id: failed!.id, status: "PENDING", attempts: 0, endpoint: { id: endpoint.id } });
    expect(retried.nextAttemptAt).not.toBeNull();

    const [succeeded] = await p.settled(endpoint.id, 1, ["SUCCEEDED"]);
    expect(succeeded).toMatchObject({ attempts: 1, lastResponseStatus: 200, lastError: null });
    expect(hook.ids()).toEqual(new Set([failed!.eventId]));
  });

  it("signs with the new secret alone once rotateWebhookSecret has issued it", async () => {
    const p = await project();
    const hook = await receiver(answerWith(200));
    const endpoint = await p.createEndpoint(hook.url);
    hook.secret = endpoint.secret;
    worker();
    await p.logEvents([p.entitlementsChanged(1)]);
    await p.settled(endpoint.id, 1);

    const rotated = ok(
      await p.gql(`mutation ($id: ID!) { rotateWebhookSecret(id: $id) { signingSecret endpoint { id } } }`, { id: endpoint.id }),
    ).rotateWebhookSecret;
    issuedSecrets.push(rotated.signingSecret);
    expect(rotated.endpoint.id).toBe(endpoint.id);
    expect(rotated.signingSecret).toMatch(/^whsec_/);
    expect(rotated.signingSecret).not.toBe(endpoint.secret);
    hook.secret = rotated.signingSecret;
    await p.logEvents([p.entitlementsChanged(2)]);
    await p.settled(endpoint.id, 2);

    const [before, after] = hook.received as [(typeof hook.received)[0], (typeof hook.received)[0]];
    expect(after.verified).toBe(true);
    expect(() => new Webhook(endpoint.secret).verify(after.body, after.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(endpoint.secret).verify(before.body, before.headers as Record<string, string>)).not.toThrow();
  });

  it("queues deliveries for enabled endpoints whose event types include the event's, newest first", async () => {
    const p = await project();
    const hook = await receiver(answerWith(200));
    const everything = await p.createEndpoint(hook.url, { description: "all of it" });
    const thresholdsOnly = await p.createEndpoint(hook.url, { eventTypes: ["USAGE_THRESHOLD_REACHED"] });
    const disabled = await p.createEndpoint(hook.url);
    expect(everything.eventTypes).toEqual(["ENTITLEMENTS_CHANGED", "USAGE_THRESHOLD_REACHED"]);
    const updated = ok(
      await p.gql(`mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { ${ENDPOINT_FIELDS} } }`, {
        input: { id: disabled.id, status: "DISABLED", description: "paused" },
      }),
    ).updateWebhookEndpoint;
    expect(updated).toMatchObject({ status: "DISABLED", description: "paused", url: hook.url });
    worker();

    const [changed, threshold] = await p.logEvents([p.entitlementsChanged(1), p.thresholdReached]);
    const all = await p.settled(everything.id, 2);
    expect(all.map((delivery) => [delivery.eventId, delivery.eventType])).toEqual([
      [threshold!.id, "USAGE_THRESHOLD_REACHED"],
      [changed!.id, "ENTITLEMENTS_CHANGED"],
    ]);
    const [onlyThreshold] = await p.settled(thresholdsOnly.id, 1);
    expect(onlyThreshold).toMatchObject({ eventId: threshold!.id, eventType: "USAGE_THRESHOLD_REACHED" });
    expect((await p.deliveries(disabled.id)).totalCount).toBe(0);

    const thresholdBody = hook.received.map((request) => JSON.parse(request.body)).find((body) => body.type === "usage.threshold_reached");
    expect(thresholdBody.data).toEqual({
      id: threshold!.id,
      customer: { id: Buffer.from(`Customer:${p.customerId}`).toString("base64"), externalId: "acme" },
      featureKey: "seats",
      threshold: 80,
      used: 8,
      usageLimit: 10,
      periodStart: null,
      periodEnd: null,
      occurredAt: "2026-01-02T00:00:00.000Z",
    });

    const succeeded = await p.deliveries(everything.id, `status: [SUCCEEDED], first: 1`);
    expect(succeeded.totalCount).toBe(2);
    expect(succeeded.edges).toHaveLength(1);
    expect((await p.deliveries(everything.id, "status: [FAILED]")).totalCount).toBe(0);
    const listed = ok(await p.gql(`{ webhookEndpoints(first: 10) { totalCount edges { node { id status } } } }`)).webhookEndpoints;
    expect(listed.totalCount).toBe(3);
    expect(listed.edges.map((edge: any) => edge.node.id)).toEqual([everything.id, thresholdsOnly.id, disabled.id]);
  });
});

describe("the address guard", () => {
  const withGuard = async <T>(run: () => Promise<T>) => {
    registration.allowPrivate = false;
    try {
      return await run();
    } finally {
      registration.allowPrivate = true;
    }
  };

  it.each([
    "http://127.0.0.1/hooks",
    "http://localhost:8080/hooks",
    "http://10.0.0.1/hooks",
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hooks",
    "http://0.0.0.0/hooks",
    "http://224.0.0.1/hooks",
    "http://2130706433/hooks",
    "http://no-such-host.invalid/hooks",
    "ftp://hooks.example.com/hooks",
    "https://user:password@hooks.example.com/hooks",
    "not a url",
  ])("refuses to register %s: VALIDATION_ERROR on input.url", async (url) => {
    const p = await project();
    await withGuard(async () => {
      const created = await p.gql(`mutation ($url: String!) { createWebhookEndpoint(input: { url: $url }) { signingSecret } }`, { url });
      expect(firstError(created)).toEqual({ code: "VALIDATION_ERROR", field: "input.url" });
    });
  });

  it("accepts a public address at registration, and refuses a private one on update", async () => {
    const p = await project();
    await withGuard(async () => {
      const endpoint = await p.createEndpoint("https://hooks.example.com/entitlements");
      const updated = await p.gql(`mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { url } }`, {
        input: { id: endpoint.id, url: "http://192.168.1.10/hooks" },
      });
      expect(firstError(updated)).toEqual({ code: "VALIDATION_ERROR", field: "input.url" });
    });
  });

  it("refuses at delivery time too: an address literal registered with the guard off, a name that rebinds to loopback", async () => {
    const p = await project();
    const hook = await receiver(answerWith(200));
    const literal = await p.createEndpoint(hook.url); // registered while private addresses were allowed
    const rebinding = await withGuard(() => p.createEndpoint(`http://rebind.example.com:${hook.port}/hooks`));
    expect(rebindLookups).toBe(1); // it resolved to a public address at registration
    worker({ allowPrivateUrls: false, retryScheduleMs: [60_000] }, { resolve: testResolver });
    await p.logEvents([p.entitlementsChanged(1)]);

    for (const endpoint of [literal, rebinding]) {
      const refused = await p.attempted(endpoint.id);
      expect(refused).toMatchObject({
        status: "PENDING",
        lastResponseStatus: null,
        lastError: "address 127.0.0.1 is not public (loopback)",
      });
    }
    expect(hook.received).toHaveLength(0);
  });
});

describe("several instances", () => {
  it("delivers each event exactly once with two workers (each with its own connections) on one database", async () => {
    const p = await project();
    const hook = await receiver(answerWith(200));
    const endpoint = await p.createEndpoint(hook.url);
    // A second instance: on PostgreSQL a pool of its own, as another process would have.
    const other = databaseKind === "postgres" ? openDatabase({ kind: "postgres", url: t.postgresUrl!, poolSize: 5 }) : t.database;
    try {
      worker({ concurrency: 4 }, { holder: "instance-a" });
      worker({ concurrency: 4 }, { prisma: other.prisma, holder: "instance-b" });
      const events = await p.logEvents(Array.from({ length: 60 }, (_, n) => p.entitlementsChanged(n)));
      await p.settled(endpoint.id, 60, ["SUCCEEDED"]);
      expect(hook.received).toHaveLength(60);
      expect(hook.ids()).toEqual(new Set(events.map((event) => event.id)));
      expect((await p.deliveryList(endpoint.id)).every((delivery) => delivery.attempts === 1)).toBe(true);
    } finally {
      await Promise.all(workers.splice(0).map((worker) => worker.stop()));
      if (other !== t.database) await other.close();
    }
  });

  it("takes over the deliveries of an instance that claimed them and died, once its lease has expired", async () => {
    const p = await project();
    const hook = await receiver(answerWith(200));
    const endpoint = await p.createEndpoint(hook.url);
    const events = await p.logEvents(Array.from({ length: 10 }, (_, n) => p.entitlementsChanged(n)));
    // The instance that dies: it claims everything due, and never attempts nor records anything.
    const claimedAt = Date.now();
    const claimed = await claimDueDeliveries(t.database.prisma, "dead-instance", 600, 100);
    expect(claimed.map((delivery) => delivery.event.id).sort()).toEqual(events.map((event) => event.id).sort());

    worker({}, { holder: "survivor" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.received).toHaveLength(0); // the lease still holds

    await p.settled(endpoint.id, 10, ["SUCCEEDED"]);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(600);
    expect(hook.ids()).toEqual(new Set(events.map((event) => event.id)));
    expect(hook.received).toHaveLength(10);
    const leases = await t.database.prisma.webhookDelivery.findMany({ where: { endpointId: decodeGlobalID(endpoint.id).id } });
    expect(leases.every((delivery) => delivery.leasedBy === null && delivery.leasedUntil === null)).toBe(true);
  });
});

describe("signing secrets", () => {
  it("are shown at creation and rotation only: in no later answer, and in no log line", async () => {
    const p = await project();
    const hook = await receiver((response, n) => response.writeHead(n === 0 ? 500 : 200).end());
    const endpoint = await p.createEndpoint(hook.url);
    worker();
    await p.logEvents([p.entitlementsChanged(1)]);
    await p.settled(endpoint.id, 1);

    const answers = [
      await p.gql(`{ webhookEndpoints { edges { node { ${ENDPOINT_FIELDS} deliveries { edges { node { ${DELIVERY_FIELDS} } } } } } } }`),
      await p.gql(`query ($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { ${ENDPOINT_FIELDS} } } }`, { id: endpoint.id }),
      await p.gql(`mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { ${ENDPOINT_FIELDS} } }`, {
        input: { id: endpoint.id, description: "still secret" },
      }),
      await p.gql(`{ __type(name: "WebhookEndpoint") { fields { name } } }`),
    ];
    const everything = JSON.stringify(answers) + logged;
    expect(logged).toContain("webhook attempt failed"); // the attempts were logged, without the secret
    expect(issuedSecrets.length).toBeGreaterThan(5);
    for (const secret of issuedSecrets) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice("whsec_".length));
    }
    for (const request of hook.received) expect(everything).not.toContain(String(request.headers["webhook-signature"]).slice(3));
    expect(answers[3]!.data.__type.fields.map((field: { name: string }) => field.name)).not.toContain("secret");
  });

  it("need ADMIN: a WRITE key may neither list nor register endpoints", async () => {
    const p = await project();
    const writeKey = ok(await p.gql(`mutation { createApiKey(input: { name: "writer", scopes: [WRITE] }) { secret } }`)).createApiKey
      .secret;
    const listed = await t.gql(`{ webhookEndpoints { totalCount } }`, {}, { key: writeKey });
    const created = await t.gql(
      `mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1/x" }) { signingSecret } }`,
      {},
      { key: writeKey },
    );
    expect(firstError(listed).code).toBe("PERMISSION_DENIED");
    expect(firstError(created).code).toBe("PERMISSION_DENIED");
  });
});
