// Many requests at once, transactions among them: the embedded database is a single
// connection, and the server must serialise work on it without failing or mixing requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("concurrent requests", () => {
  it("run side by side with transactional mutations and lose nothing", async () => {
    const plan = await seed(t).plan({ key: "basic", name: "Basic" });
    const pro = await seed(t).plan({ key: "pro", name: "Pro" });
    const customers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.gql(
          `mutation ($e: String!, $p: ID!) {
          createSubscription(input: { customer: { externalId: $e }, planId: $p }) { id }
        }`,
          { e: `missing-${i}`, p: plan.id },
        ),
      ),
    );
    // Each refers to an unknown customer: all refused, none half-written.
    expect(customers.every((result) => result.errors?.[0]?.extensions?.code === "NOT_FOUND")).toBe(true);

    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.gql(`mutation ($e: String!) { createCustomer(input: { externalId: $e }) { id } }`, { e: `c-${i}` }),
      ),
    );
    expect(created.every((result) => !result.errors)).toBe(true);
    const subscriptions = await Promise.all(
      created.map((result) =>
        t.gql(`mutation ($c: ID!, $p: ID!) { createSubscription(input: { customer: { id: $c }, planId: $p }) { id } }`, {
          c: result.data.createCustomer.id,
          p: plan.id,
        }),
      ),
    );
    // Plan changes run in transactions; reads interleave with them.
    const mixed = await Promise.all([
      ...subscriptions.map((result) =>
        t.gql(
          `mutation ($s: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $s, planId: $p }) { plan { key } phases { plan { key } } } }`,
          {
            s: result.data.createSubscription.id,
            p: pro.id,
          },
        ),
      ),
      ...Array.from({ length: 10 }, () => t.gql(`{ customers(first: 50) { totalCount } }`)),
    ]);
    expect(mixed.filter((result) => result.errors)).toEqual([]);
    for (const result of mixed.slice(0, 20)) {
      expect(result.data.changeSubscriptionPlan.plan.key).toBe("pro");
      expect(result.data.changeSubscriptionPlan.phases.map((phase: { plan: { key: string } }) => phase.plan.key)).toEqual(["basic", "pro"]);
    }
    expect(await t.database.prisma.subscriptionPhase.count({ where: { subscription: { projectId: t.projectId } } })).toBe(40);
  });
});
