// The in-process event bus: who hears a change, and what a change costs with many subscribers.
import { describe, expect, it } from "vitest";
import { createEventBus, type EntitlementChange } from "../../src/events/bus.ts";
import { CountingEventTarget } from "../helpers/counting-event-target.ts";
import { waitUntil } from "../helpers/wait.ts";

const change = (projectId: string, customerId: string): EntitlementChange => ({
  projectId,
  customerId,
  cause: "GRANT_CHANGED",
  changedFeatureKeys: ["exports"],
  occurredAt: new Date().toISOString(),
});

/** Starts `iterable` (a subscription listens from its first read) and returns what it hears. */
function listen(iterable: AsyncIterable<EntitlementChange>) {
  const heard: string[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  void (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) heard.push(next.value.customerId);
  })();
  return { heard, stop: () => iterator.return?.() };
}

describe("the event bus", () => {
  it("wakes only the changed customer's subscribers and the project's, however many other customers are watched", async () => {
    const target = new CountingEventTarget();
    const bus = createEventBus({ eventTarget: target });
    const customers = Array.from({ length: 1_000 }, (_, i) => `customer-${i}`);
    const perCustomer = customers.map((customerId) => listen(bus.subscribe("p1", customerId)));
    const wholeProject = listen(bus.subscribe("p1"));
    const otherProject = listen(bus.subscribe("p2", "customer-7"));
    await waitUntil(() => target.listeners === customers.length + 2, { what: "every subscriber to listen" });

    bus.publish(change("p1", "customer-7"));
    await waitUntil(() => perCustomer[7]!.heard.length > 0 && wholeProject.heard.length > 0, { what: "the two subscribers to hear it" });

    // The dispatch itself called two listeners, no more: nobody else was woken, not even to be filtered out.
    expect(target.calls).toBe(2);
    expect(perCustomer[7]!.heard).toEqual(["customer-7"]);
    expect(perCustomer.filter(({ heard }) => heard.length > 0)).toHaveLength(1);
    expect(wholeProject.heard).toEqual(["customer-7"]);
    expect(otherProject.heard).toEqual([]);
    await Promise.all([...perCustomer, wholeProject, otherProject].map(({ stop }) => stop()));
  });
});
