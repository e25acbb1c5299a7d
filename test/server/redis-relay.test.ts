// Change events between instances through the machine's Redis, and what happens when Redis
// goes away: each "instance" here is an event bus with its own relay, connected through a
// TCP proxy this test can make refuse and forward again.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventBus, type EntitlementChange, type EventBus } from "../../src/events/bus.ts";
import { connectRedisRelay, type RedisRelay } from "../../src/events/redis-relay.ts";
import { createLogger } from "../../src/logger.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

const redisUrl = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
const REDIS = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };

const until = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const projectId = randomUUID();
const change = (customerId: string): EntitlementChange => ({
  projectId,
  customerId,
  cause: "GRANT_CHANGED",
  changedFeatureKeys: ["sso"],
  occurredAt: new Date().toISOString(),
});

/** Everything a bus delivers to a subscriber of the test project. */
function listen(bus: EventBus) {
  const heard: string[] = [];
  const iterator = bus.subscribe(projectId)[Symbol.asyncIterator]();
  void (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      heard.push(next.value.customerId);
    }
  })();
  return { heard, stop: () => void iterator.return?.() };
}

describe("events across instances through Redis", () => {
  let proxy: TcpProxy;
  const channel = `entitlements:test:${randomUUID()}`;
  let relays: RedisRelay[];
  let a: EventBus;
  let b: EventBus;
  let heardOnA: ReturnType<typeof listen>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    proxy = await startTcpProxy(REDIS);
    const log = createLogger("silent");
    const url = `redis://127.0.0.1:${proxy.port}`;
    relays = [connectRedisRelay({ url, log, channel }), connectRedisRelay({ url, log, channel })];
    await Promise.all(relays.map((relay) => relay.ready));
    a = createEventBus({ relay: relays[0] });
    b = createEventBus({ relay: relays[1] });
    heardOnA = listen(a);
  });
  afterAll(async () => {
    heardOnA.stop();
    await Promise.all([a.close(), b.close()]);
    await proxy.close();
    process.off("unhandledRejection", onUnhandled);
  });

  it("delivers what one instance publishes to the other's subscribers, and its own once", async () => {
    b.publish(change("from-b"));
    a.publish(change("from-a"));
    await until(() => heardOnA.heard.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heardOnA.heard.sort()).toEqual(["from-a", "from-b"]);
  });

  it("keeps local subscribers hearing while Redis is away, drops cross-instance sends, and does not crash", async () => {
    heardOnA.heard.length = 0;
    proxy.setMode("refuse"); // every connection reset, new ones too
    // Give both clients a moment to notice the connection is gone.
    await new Promise((resolve) => setTimeout(resolve, 100));
    a.publish(change("local-during-outage"));
    b.publish(change("lost-during-outage"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(heardOnA.heard).toEqual(["local-during-outage"]);
    expect(relays[1]!.dropped).toBeGreaterThanOrEqual(1);
    expect(unhandled).toEqual([]);
  });

  it("reconnects when Redis returns and carries events across again", async () => {
    heardOnA.heard.length = 0;
    proxy.setMode("forward");
    // Both relays retry on their own; once resubscribed, B's events reach A again.
    await until(() => {
      b.publish(change("after-outage"));
      return heardOnA.heard.includes("after-outage");
    }, 15_000);
    expect(unhandled).toEqual([]);
  });
});
