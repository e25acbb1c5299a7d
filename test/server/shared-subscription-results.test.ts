// Subscribers of one event with the same operation, variables and credential share one
// execution of it (src/plugins/shared-subscription-results.ts); anyone else gets their own.
import { createPubSub, createSchema, createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { useSharedSubscriptionResults } from "../../src/plugins/shared-subscription-results.ts";
import { subscribeSse } from "../helpers/sse.ts";
import { CountingEventTarget } from "../helpers/counting-event-target.ts";
import { waitUntil } from "../helpers/wait.ts";

interface Tick {
  n: number;
}

function tickServer() {
  const target = new CountingEventTarget();
  const pubsub = createPubSub<{ tick: [Tick] }>({ eventTarget: target });
  let executions = 0;
  const schema = createSchema<{ caller: { projectId: string; customerId: string | undefined; scopes: Set<string> } }>({
    typeDefs: /* GraphQL */ `
      type Query { ok: Boolean }
      type Tick { n: Int!, label: String!, viewer: String }
      type Subscription { ticks(label: String!): Tick! }
    `,
    resolvers: {
      Subscription: {
        ticks: {
          subscribe: () => pubsub.subscribe("tick"),
          resolve: (tick: Tick, { label }: { label: string }) => ({ ...tick, label }),
        },
      },
      Tick: {
        n: (tick: Tick) => {
          executions++;
          return tick.n;
        },
        viewer: (_tick: Tick, _args: unknown, context: { caller: { customerId?: string } }) => context.caller.customerId ?? null,
      },
    },
  });
  const yoga = createYoga({
    schema,
    plugins: [useSharedSubscriptionResults()],
    // The bearer token stands for a customer of project p.
    context: ({ request }) => ({
      caller: { projectId: "p", customerId: request.headers.get("authorization")?.slice(7), scopes: new Set<string>() },
    }),
  });
  return { yoga, pubsub, target, executions: () => executions };
}

const TICKS = `subscription ($label: String!) { ticks(label: $label) { n label viewer } }`;

describe("subscription results shared between subscribers", () => {
  it("executes an event once per distinct operation, variables and caller, and gives each subscriber its own answer", async () => {
    const { yoga, pubsub, target, executions } = tickServer();
    const open = (customer: string, label: string) => subscribeSse(yoga.fetch, "http://test/graphql", customer, TICKS, { label });
    const alike = await Promise.all(Array.from({ length: 20 }, () => open("c1", "a")));
    const otherLabel = await open("c1", "b");
    const otherCaller = await open("c2", "a");
    const everyone = [...alike, otherLabel, otherCaller];
    await waitUntil(() => target.listeners >= everyone.length, { timeoutMs: 1000, what: "every subscriber to listen" });
    expect(target.listeners).toBe(everyone.length);

    pubsub.publish("tick", { n: 1 });
    const heard = await Promise.all(everyone.map((subscription) => subscription.next()));
    expect(
      heard.slice(0, 20).every(({ data }) => JSON.stringify(data) === JSON.stringify({ ticks: { n: 1, label: "a", viewer: "c1" } })),
    ).toBe(true);
    expect(heard[20]!.data).toEqual({ ticks: { n: 1, label: "b", viewer: "c1" } });
    expect(heard[21]!.data).toEqual({ ticks: { n: 1, label: "a", viewer: "c2" } });
    expect(executions()).toBe(3);

    // The next event is executed afresh, and dropping every subscriber leaves no listener.
    pubsub.publish("tick", { n: 2 });
    expect((await alike[0]!.next()).data).toEqual({ ticks: { n: 2, label: "a", viewer: "c1" } });
    await Promise.all(everyone.map((subscription) => subscription.close()));
    await waitUntil(() => target.listeners === 0, { timeoutMs: 1000, what: () => `no listener left (${target.listeners} still there)` });
  });
});
