// Notes between instances through Redis pub/sub (REDIS_URL): "this project's event log grew",
// "a job was queued", "this cache entry is stale". Events themselves are read from the log
// by each instance, so Redis only makes them arrive sooner. Not
// @graphql-yoga/redis-event-target: that target delivers even this instance's own messages
// through Redis, and a publish while it is away rejects unhandled. Here:
// - each instance tags what it sends with its own id and ignores its own messages;
// - while Redis is away, sends are dropped (counted, logged once per outage) rather than
//   queued without bound, and both connections retry every second or two; on return the
//   subscription is renewed by ioredis (autoResubscribe).
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import type { EventRelay, RelayedMessage } from "./bus.ts";

const CHANGES_CHANNEL = "entitlements:changes";

interface Envelope {
  origin: string;
  message: RelayedMessage;
}

export interface RedisRelay extends EventRelay {
  /** Resolves once the subscription is in place and sends can go out; while Redis is away, when it returns. */
  ready: Promise<void>;
  /** Sends dropped because Redis was away. */
  readonly dropped: number;
}

const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);

export function connectRedisRelay({ url, log, channel = CHANGES_CHANNEL }: { url: string; log: Logger; channel?: string }): RedisRelay {
  const origin = randomUUID();
  const publisher = new Redis(url, {
    retryStrategy,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: `entitlements-pub-${origin}`,
  });
  const subscriber = new Redis(url, { retryStrategy, maxRetriesPerRequest: null, connectionName: `entitlements-sub-${origin}` });
  let dropped = 0;
  let away = false;
  const wentAway = (error: Error) => {
    if (away) return;
    away = true;
    log.warn(
      { err: { message: error.message } },
      "Redis unreachable: other instances' events reach this one's subscribers at its polls of the event log, and the entitlement cache steps aside, until it returns",
    );
  };
  const cameBack = () => {
    if (!away) return;
    away = false;
    log.info({ dropped }, "Redis reachable again: instances hear each other's events and invalidations at once again");
  };
  publisher.on("error", wentAway);
  subscriber.on("error", wentAway);
  publisher.on("ready", cameBack);

  // Whether other instances' messages can arrive: the subscription is in place.
  const connectedListeners: ((connected: boolean) => void)[] = [];
  let connected = false;
  const setConnected = (value: boolean) => {
    if (value === connected) return;
    connected = value;
    for (const listener of connectedListeners) listener(value);
  };
  subscriber.on("close", () => setConnected(false));
  // After a reconnect ioredis renews the subscription before it reports "ready".
  subscriber.on("ready", () => setConnected(true));

  let deliver: (message: RelayedMessage) => void = () => {};
  subscriber.on("message", (from: string, message: string) => {
    if (from !== channel) return;
    try {
      const envelope = JSON.parse(message) as Envelope;
      if (envelope.origin !== origin) deliver(envelope.message);
    } catch (error) {
      log.warn({ err: error }, "ignored a malformed message from Redis");
    }
  });
  // Ready means both ways work: a send made before the publisher connects would be dropped,
  // and another instance would then keep serving what this one's write made stale.
  const publisherReady = new Promise<void>((resolve) => {
    if (publisher.status === "ready") resolve();
    else publisher.once("ready", () => resolve());
  });
  const ready = Promise.all([
    subscriber.subscribe(channel).then(
      () => undefined,
      (error: Error) => wentAway(error),
    ),
    publisherReady,
  ]).then(() => undefined);

  return {
    ready,
    get dropped() {
      return dropped;
    },
    send(message) {
      if (publisher.status !== "ready") {
        dropped++;
        return;
      }
      publisher.publish(channel, JSON.stringify({ origin, message } satisfies Envelope)).catch((error: Error) => {
        dropped++;
        wentAway(error);
      });
    },
    onReceive(handler) {
      deliver = handler;
    },
    onConnectedChange(listener) {
      connectedListeners.push(listener);
      listener(connected);
    },
    async close() {
      await Promise.all([publisher, subscriber].map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
