// The rate limiter on the machine's Redis: one budget across instances, and no failure
// while Redis is away (each instance then counts alone).
import type { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { connectRateStore, createRateLimiter } from "../../src/limits/rate-limits.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const clients: Redis[] = [];
const connect = (url = redisUrl) => {
  const client = connectRateStore(url);
  clients.push(client);
  return client;
};
const ready = (client: Redis) => new Promise((resolve) => (client.status === "ready" ? resolve(null) : client.once("ready", resolve)));
afterAll(() => {
  for (const client of clients) client.disconnect();
});

const budget = { requests: { points: 4, windowSeconds: 60 }, usage: { points: 2, windowSeconds: 60 } };

describe("rate limiter", () => {
  it("shares one budget between instances through Redis", async () => {
    const [a, b] = [connect(), connect()];
    await Promise.all([ready(a), ready(b)]);
    const first = createRateLimiter(budget, a);
    const second = createRateLimiter(budget, b);
    const key = `key:${randomUUID()}`;
    const answers = [
      await first.consume("requests", key),
      await second.consume("requests", key),
      await first.consume("requests", key),
      await second.consume("requests", key),
    ];
    expect(answers).toEqual([null, null, null, null]);
    const refused = await first.consume("requests", key);
    expect(refused?.retryAfterMs).toBeGreaterThan(50_000);
    expect(refused?.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(await second.consume("requests", key)).not.toBeNull();
    // The usage budget is another: untouched by the requests above.
    expect(await second.consume("usage", key)).toBeNull();
  });

  it("takes nothing for a refusal: what is left stays for a call that fits, in memory and through Redis", async () => {
    const redis = connect();
    await ready(redis);
    const usage = { ...budget, usage: { points: 10, windowSeconds: 60 } };
    for (const limiter of [createRateLimiter(usage), createRateLimiter(usage, redis)]) {
      const key = `key:${randomUUID()}`;
      expect(await limiter.consume("usage", key, 6)).toBeNull();
      expect(await limiter.consume("usage", key, 5)).not.toBeNull();
      expect(await limiter.consume("usage", key, 5)).not.toBeNull();
      expect(await limiter.consume("usage", key, 4)).toBeNull();
      expect(await limiter.consume("usage", key, 1)).not.toBeNull();
    }
  });

  it("counts in memory when Redis cannot be reached, and never fails", async () => {
    const away = connect("redis://127.0.0.1:1");
    const limiter = createRateLimiter(budget, away);
    const key = `key:${randomUUID()}`;
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await limiter.consume("requests", key));
    expect(answers.slice(0, 4)).toEqual([null, null, null, null]);
    expect(answers[4]?.retryAfterMs).toBeGreaterThan(0);
  });

  it("counts in memory when Redis stops answering (the socket open and silent), without holding a request", async () => {
    const redis = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    try {
      const client = connect(`redis://127.0.0.1:${proxy.port}`);
      await ready(client);
      const limiter = createRateLimiter(budget, client);
      const key = `key:${randomUUID()}`;
      expect(await limiter.consume("requests", key)).toBeNull(); // counted in Redis
      proxy.setMode("blackhole");
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await limiter.consume("requests", key));
      // The memory budget took over: four allowed, the fifth refused.
      expect(answers.slice(0, 4)).toEqual([null, null, null, null]);
      expect(answers[4]?.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it("is off for a budget of 0 points", async () => {
    const limiter = createRateLimiter({ requests: { points: 0, windowSeconds: 1 }, usage: budget.usage });
    for (let i = 0; i < 100; i++) expect(await limiter.consume("requests", "key:x")).toBeNull();
  });
});
