// S2: from a change's commit to its webhook at a receiver. A local receiver (an HTTP server in
// this process) is registered as an endpoint; 1,000 grants, each to a customer of its own,
// are made a few at a time, and each event's latency is from its mutation's response (the
// commit is before it) to its arrival at the receiver, matched by customer.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Endpoint } from "./load.ts";
import { log } from "./log.ts";
import { createGrant, expectShape, gqlBody, post } from "./queries.ts";
import { percentile } from "./statistics.ts";

const body = async (request: IncomingMessage) => {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text;
};

export async function webhookDeliveryLatency(
  api: Endpoint,
  { featureKey, events = 1000, concurrency = 8 }: { featureKey: string; events?: number; concurrency?: number },
) {
  const url = `${api.baseUrl}${api.path}`;
  const receivedAt = new Map<string, number>();
  let deliveries = 0;
  const receiver = createServer(async (request, response) => {
    const payload = JSON.parse(await body(request)) as { data?: { customer?: { externalId?: string } } };
    deliveries++;
    const customer = payload.data?.customer?.externalId;
    if (customer && !receivedAt.has(customer)) receivedAt.set(customer, performance.now());
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  try {
    const run = `s2-${Date.now().toString(36)}`;
    expectShape(
      "S2 endpoint",
      await post(
        url,
        gqlBody(
          `mutation ($u: String!) { createWebhookEndpoint(input: { url: $u, eventTypes: [ENTITLEMENTS_CHANGED] }) { endpoint { id } } }`,
          {
            u: receiverUrl,
          },
        ),
        api.headers,
      ),
      (data) => Boolean(data.createWebhookEndpoint?.endpoint?.id),
    );
    const customers = Array.from({ length: events }, (_, index) => `${run}-${index}`);
    log(`S2: ${events} customers, then one grant each, ${concurrency} at a time, each heard by a local webhook receiver`);
    for (let index = 0; index < customers.length; index += 50) {
      const batch = customers.slice(index, index + 50);
      const mutation = `mutation { ${batch.map((customer, i) => `c${i}: createCustomer(input: { externalId: "${customer}" }) { id }`).join(" ")} }`;
      expectShape("S2 customers", await post(url, gqlBody(mutation, {}), api.headers), (data) => Object.keys(data).length === batch.length);
    }
    const respondedAt = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < customers.length) {
          const customer = customers[next++]!;
          const response = await post(url, gqlBody(createGrant(1000), { c: customer, f: featureKey }), api.headers);
          respondedAt.set(customer, performance.now());
          expectShape("S2 grant", response, (data) => Boolean(data.createGrant?.id));
        }
      }),
    );
    const deadline = Date.now() + 60_000;
    while (receivedAt.size < customers.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const latencies = customers
      .filter((customer) => receivedAt.has(customer))
      .map((customer) => Math.max(0, (receivedAt.get(customer) as number) - (respondedAt.get(customer) as number)))
      .sort((a, b) => a - b);
    return {
      events,
      delivered: receivedAt.size,
      deliveries,
      p50ms: Math.round(percentile(latencies, 0.5)),
      p99ms: Math.round(percentile(latencies, 0.99)),
    };
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
}
