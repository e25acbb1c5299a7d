// A subscriber that goes away costs nothing afterwards: no listener is left behind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { createEventBus } from "../../src/events/bus.ts";
import { CountingEventTarget } from "../helpers/counting-event-target.ts";
import { waitUntil } from "../helpers/wait.ts";

const target = new CountingEventTarget();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ events: createEventBus({ eventTarget: target }) });
});
afterAll(() => t.close());

describe("subscribers that disconnect", () => {
  it("leave no listener behind after 1,000 subscribe-and-drop cycles", async () => {
    const body = JSON.stringify({ query: "subscription { entitlementsChanged { cause } }" });
    const headers = { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${t.adminKey}` };
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      const controllers = Array.from({ length: 50 }, () => new AbortController());
      const responses = await Promise.all(
        controllers.map((controller) => t.app.fetch("http://test/graphql", { method: "POST", headers, body, signal: controller.signal })),
      );
      expect(responses.every((response) => response.status === 200)).toBe(true);
      // Read until each stream is open on the server side, then drop every client.
      await Promise.all(responses.map((response) => response.body!.getReader().read()));
      peak = Math.max(peak, target.listeners);
      for (const controller of controllers) controller.abort();
      await Promise.all(responses.map((response) => response.body!.cancel().catch(() => {})));
    }
    expect(peak).toBe(50);
    // The server lets go of a dropped stream a moment after the client does.
    await waitUntil(() => target.listeners === 0, { timeoutMs: 1000, what: () => `no listener left (${target.listeners} still there)` });
  });
});
