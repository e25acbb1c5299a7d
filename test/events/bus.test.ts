// The in-process event bus: who hears a logged event, and what an event costs with many subscribers.
import { describe, expect, it } from "vitest";
import { createEventBus, type EventBus } from "../../src/events/bus.ts";
import type { LoggedEvent } from "../../src/events/logged-event.ts";
import { CountingEventTarget } from "../helpers/counting-event-target.ts";
import { waitUntil } from "../helpers/wait.ts";

const logged = (projectId: string, customerId: string): LoggedEvent => ({
  id: "1",
  projectId,
  customerId,
  type: "ENTITLEMENTS_CHANGED",
  featureKeys: ["exports"],
  occurredAt: new Date().toISOString(),
  data: { cause: "GRANT_CHANGED", changedFeatureKeys: ["exports"], entitlements: [] },
});

/** What a listener of the project (or of one customer) hears. */
function listen(bus: EventBus, projectId: string, customerId: string | null = null) {
  const heard: string[] = [];
  const stop = bus.listen(projectId, customerId, (event) => heard.push(event.customerId));
  return { heard, stop };
}

describe("the event bus", () => {
  it("wakes only the changed customer's subscribers and the project's, however many other customers are watched", async () => {
    const target = new CountingEventTarget();
    const bus = createEventBus({ eventTarget: target });
    const customers = Array.from({ length: 1_000 }, (_, i) => `customer-${i}`);
    const perCustomer = customers.map((customerId) => listen(bus, "p1", customerId));
    const wholeProject = listen(bus, "p1");
    const otherProject = listen(bus, "p2", "customer-7");
    await waitUntil(() => target.listeners === customers.length + 2, { what: "every subscriber to listen" });

    bus.deliverLocally(logged("p1", "customer-7"));
    await waitUntil(() => perCustomer[7]!.heard.length > 0 && wholeProject.heard.length > 0, { what: "the two subscribers to hear it" });

    // The dispatch itself called two listeners, no more: nobody else was woken, not even to be filtered out.
    expect(target.calls).toBe(2);
    expect(perCustomer[7]!.heard).toEqual(["customer-7"]);
    expect(perCustomer.filter(({ heard }) => heard.length > 0)).toHaveLength(1);
    expect(wholeProject.heard).toEqual(["customer-7"]);
    expect(otherProject.heard).toEqual([]);
    for (const { stop } of [...perCustomer, wholeProject, otherProject]) stop();
    expect(target.listeners).toBe(0);
  });
});
