// The load generators: closed loop (autocannon, flat out over N connections), open loop
// (requests sent at a fixed rate, latency from when each was due), and S1's fan-out (one
// change heard by many graphql-ws subscribers).
import { Agent, request as httpRequest } from "node:http";
import autocannon from "autocannon";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createGrant, ENTITLEMENTS_CHANGED, expectShape, gqlBody, post } from "./queries.ts";
import { percentile } from "./statistics.ts";

/** Where a load run sends its POSTs. */
export interface Endpoint {
  baseUrl: string;
  path: string;
  headers?: Record<string, string>;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
}

/**
 * Waits until the server answers /healthz promptly twice in a row: requests a finished run
 * abandoned (64 connections of Q2 pages queue for seconds) must not be counted in the next.
 */
export async function waitUntilIdle(baseUrl: string) {
  const deadline = Date.now() + 60_000;
  let prompt = 0;
  while (prompt < 2 && Date.now() < deadline) {
    const started = performance.now();
    // A kept-alive socket the server closed while it was busy can fail one probe: try again.
    const answered = await fetch(`${baseUrl}/healthz`)
      .then((response) => response.arrayBuffer())
      .then(
        () => true,
        () => false,
      );
    prompt = answered && performance.now() - started < 20 ? prompt + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Drives the endpoint flat out over `connections` for `seconds` (or until `requests` have
 * answered), with the given bodies in turn (a fixed list, chosen ahead of time).
 */
export async function closedLoop(
  { baseUrl, path, headers }: Endpoint,
  bodies: string[],
  { connections, seconds, requests }: { connections: number; seconds: number; requests?: number },
): Promise<LoadResult> {
  await waitUntilIdle(baseUrl);
  let next = 0;
  const result = await autocannon({
    url: baseUrl,
    connections,
    ...(requests === undefined ? { duration: seconds } : { amount: requests }),
    requests: [
      {
        method: "POST",
        path,
        headers: { "content-type": "application/json", ...headers },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }),
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/** One request of an open loop: its body, and the kind its latency is reported under. */
export interface KindedRequest<Kind extends string> {
  kind: Kind;
  body: string;
}

/**
 * Load before a measure: `seconds` flat out, then each distinct body once. Every run starts
 * at the first body, and a faster run gets further down the list: without the pass over all
 * of them, a measure of a cached read would count first reads of customers the warm-up never
 * reached, more of them the faster the server.
 */
export async function warmUp(endpoint: Endpoint, bodies: string[], seconds: number) {
  await closedLoop(endpoint, bodies, { connections: 16, seconds });
  const distinct = [...new Set(bodies)];
  if (distinct.length > 1) await closedLoop(endpoint, distinct, { connections: 16, seconds, requests: distinct.length });
}

/**
 * Latency at a fixed rate, open loop: request i is due at start + i / rate, sent then whether
 * or not earlier ones have answered, and timed from when it was due (so a stall counts
 * against every request it delays). autocannon's rate is not this: each connection sends
 * flat out until its quota for the second is spent, then waits for the next second, which
 * measures a 16-deep queue at the start of every second rather than latency at that rate.
 */
export async function openLoop(endpoint: Endpoint, bodies: string[], options: { rate: number; seconds: number }): Promise<LoadResult> {
  await waitUntilIdle(endpoint.baseUrl);
  const { all } = await openLoopByKind(
    endpoint,
    bodies.map((body) => ({ kind: "all" as const, body })),
    options,
  );
  return all;
}

/**
 * The open loop over requests of several kinds sent in turn, each kind's latency apart: kinds
 * measured in one run share its conditions (the server's load, the machine's). Does not wait
 * for the server to be idle, so that it can run beside other load. `accept` judges a 200
 * response's body (a GraphQL error comes with 200): a request it refuses is a failure, and
 * failures are counted, not timed.
 */
export async function openLoopByKind<Kind extends string>(
  { baseUrl, path, headers = {} }: Endpoint,
  requests: KindedRequest<Kind>[],
  { rate, seconds, accept }: { rate: number; seconds: number; accept?: (body: string) => boolean },
): Promise<Record<Kind, LoadResult>> {
  const target = new URL(path, baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * seconds);
  const latencies = new Map<Kind, number[]>(requests.map(({ kind }) => [kind, []]));
  const failures = new Map<Kind, number>(requests.map(({ kind }) => [kind, 0]));
  const fail = (kind: Kind) => failures.set(kind, failures.get(kind)! + 1);
  const send = (index: number, dueAt: number) =>
    new Promise<void>((done) => {
      const { kind, body } = requests[index % requests.length]!;
      const req = httpRequest(
        target,
        { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } },
        (response) => {
          let text = "";
          if (accept) response.on("data", (chunk) => (text += chunk));
          else response.resume();
          response.on("end", () => {
            if (response.statusCode !== 200 || (accept && !accept(text))) fail(kind);
            else latencies.get(kind)!.push(performance.now() - dueAt);
            done();
          });
        },
      );
      req.on("error", () => {
        fail(kind);
        done();
      });
      req.end(body);
    });
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    for (; sent < total && started + (sent * 1000) / rate <= now; sent++) inFlight.push(send(sent, started + (sent * 1000) / rate));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const results = {} as Record<Kind, LoadResult>;
  for (const [kind, timed] of latencies) {
    timed.sort((a, b) => a - b);
    results[kind] = {
      rps: Math.round(timed.length / elapsed),
      p50: percentile(timed, 0.5),
      p99: percentile(timed, 0.99),
      requests: timed.length,
      failures: failures.get(kind)!,
    };
  }
  return results;
}

export interface FanOut {
  /** The API key the subscribers and the changes use. */
  key: string;
  /** The customer every subscriber watches. */
  customer: string;
  /** The metered feature each change grants more of. */
  featureKey: string;
  subscribers: number;
  /** Changes counted (after a few uncounted ones). */
  changes: number;
}

/** Latency from sending a change to each of `subscribers` graphql-ws subscribers hearing it. */
export async function subscriberFanOut(
  serverUrl: string,
  { key, customer, featureKey, subscribers, changes }: FanOut,
): Promise<{ p50: number; p99: number; deliveries: number }> {
  const wsUrl = `${serverUrl.replace("http", "ws")}/graphql`;
  const clients = Array.from({ length: subscribers }, () =>
    createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
      lazy: false,
    }),
  );
  let sentAt = 0;
  let heard = 0;
  const latencies: number[] = [];
  let onHeard: () => void = () => {};
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((subscribed, failed) => {
          client.on("connected", () => subscribed());
          client.on("error", failed);
          client.subscribe(
            { query: ENTITLEMENTS_CHANGED, variables: { c: { externalId: customer } } },
            {
              next: () => {
                latencies.push(performance.now() - sentAt);
                heard++;
                onHeard();
              },
              error: () => {},
              complete: () => {},
            },
          );
        }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  // The first changes run the mutation's and the delivery's code for the first time (the
  // server's JIT compiles it then: a first createGrant takes ~0.5 s on a fresh server); they
  // are not counted, as a server that has run for a while would not pay for them.
  const warmUps = 3;
  for (let change = 0; change < warmUps + changes; change++) {
    if (change === warmUps) latencies.length = 0;
    heard = 0;
    const all = new Promise<void>((resolve) => {
      onHeard = () => heard >= subscribers && resolve();
      setTimeout(resolve, 10_000);
    });
    sentAt = performance.now();
    const granted = await post(`${serverUrl}/graphql`, gqlBody(createGrant(10 + change), { c: customer, f: featureKey }), {
      authorization: `Bearer ${key}`,
    });
    expectShape("S1 change", granted, (data) => Boolean(data.createGrant?.id));
    await all;
  }
  await Promise.all(clients.map((client) => client.dispose()));
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), deliveries: latencies.length };
}
