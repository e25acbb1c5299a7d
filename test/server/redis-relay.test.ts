// Notes between instances through the machine's Redis ("this project's event log grew"), and
// what happens when Redis goes away: each "instance" here is an event bus with its own relay,
// connected through a TCP proxy this test can make refuse and forward again. (That no event
// is lost meanwhile is the event log's doing: test/server/durable-events.test.ts.)
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventBus, type EventBus } from "../../src/events/bus.ts";
import { connectRedisRelay, type RedisRelay } from "../../src/events/redis-relay.ts";
import { createLogger } from "../../src/logger.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { waitUntil } from "../helpers/wait.ts";

const redisUrl = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
const REDIS = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };

const until = (condition: () => boolean, what: string, timeoutMs = 10_000) => waitUntil(condition, { timeoutMs, intervalMs: 25, what });

/** Every "log grew" note a bus hears (each test names its notes by the project id it sends). */
function listen(bus: EventBus) {
  const heard: string[] = [];
  bus.onLogged((projectId) => heard.push(projectId));
  return { heard, stop: () => undefined };
}

describe("events across instances through Redis", () => {
  let proxy: TcpProxy;
  const channel = `entitlements:test:${randomUUID()}`;
  let relays: RedisRelay[];
  let a: EventBus;
  let b: EventBus;
  let heardOnA: ReturnType<typeof listen>;
  let heardOnB: ReturnType<typeof listen>;
  /** Whether each relay's subscription is in place, as the relay reports it. */
  const connected = [false, false];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    proxy = await startTcpProxy(REDIS);
    const log = createLogger("silent");
    const url = `redis://127.0.0.1:${proxy.port}`;
    relays = [connectRedisRelay({ url, log, channel }), connectRedisRelay({ url, log, channel })];
    await Promise.all(relays.map((relay) => relay.ready));
    relays.forEach((relay, index) => {
      relay.onConnectedChange((now) => {
        connected[index] = now;
      });
    });
    a = createEventBus({ relay: relays[0] });
    b = createEventBus({ relay: relays[1] });
    heardOnA = listen(a);
    heardOnB = listen(b);
  });
  afterAll(async () => {
    heardOnA.stop();
    heardOnB.stop();
    await Promise.all([a.close(), b.close()]);
    await proxy.close();
    process.off("unhandledRejection", onUnhandled);
  });

  it("carries what one instance notes to the other, and its own once", async () => {
    b.logged("from-b");
    a.logged("from-a");
    // Once B has heard A's event through Redis, an event B sends next reaches A after any echo
    // of A's own (Redis delivers in order): when it arrives, a second "from-a" would have too.
    await until(() => heardOnB.heard.includes("from-a"), "B to hear A's event");
    b.logged("sentinel");
    await until(() => heardOnA.heard.includes("sentinel"), "A to hear B's sentinel");
    expect(heardOnA.heard.sort()).toEqual(["from-a", "from-b", "sentinel"]);
  });

  it("keeps local listeners hearing while Redis is away, drops cross-instance sends, and does not crash", async () => {
    heardOnA.heard.length = 0;
    proxy.setMode("refuse"); // every connection reset, new ones too
    await until(() => !connected[0] && !connected[1], "both relays to notice Redis is gone");
    const droppedBefore = relays[1]!.dropped;
    a.logged("local-during-outage");
    b.logged("lost-during-outage");
    // B's send is dropped, not queued: it can never reach A (after Redis returns neither, as the
    // next test shows).
    await until(() => relays[1]!.dropped > droppedBefore, "B to drop its send");
    await until(() => heardOnA.heard.length > 0, "A's listener to hear A's own note");
    expect(heardOnA.heard).toEqual(["local-during-outage"]);
    expect(unhandled).toEqual([]);
  });

  it("reconnects when Redis returns and carries notes across again", async () => {
    heardOnA.heard.length = 0;
    proxy.setMode("forward");
    // Both relays retry on their own; once resubscribed, B's events reach A again.
    await until(
      () => {
        b.logged("after-outage");
        return heardOnA.heard.includes("after-outage");
      },
      "B's notes to reach A again",
      15_000,
    );
    // What B sent during the outage did not come late, before these.
    expect(heardOnA.heard.filter((customerId) => customerId !== "after-outage")).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});
