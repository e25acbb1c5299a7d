// The event log (docs/rules.md §6): every event is logged in the transaction of its change,
// ids increase in log order, `entitlementEvents` reads it oldest first, and subscriptions
// resume from an id with no gap and no repeat. A durable job taken over from a dead instance
// goes on from its last committed page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed, type Seed } from "../helpers/seed.ts";
import { subscribeSse, type SseSubscription } from "../helpers/sse.ts";
import { waitUntil } from "../helpers/wait.ts";
import { latestEventId, readEvents } from "../../src/db/event-log.ts";
import { storedValue } from "../../src/loaders/customer-state.ts";
import { purgeExpiredEvents } from "../../src/services/retention.ts";

let t: TestApp;
let s: Seed;
const open: SseSubscription[] = [];
beforeAll(async () => {
  t = await createTestApp();
  s = seed(t);
  await s.feature({ key: "sso", type: "BOOLEAN" });
  await s.feature({ key: "exports", type: "METERED" });
  for (const customer of ["log-1", "log-2", "resume", "failing"]) await s.customer(customer);
});
afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close()));
  await t.close();
});

const EVENTS = `query ($c: CustomerRef, $f: [String!], $after: String, $first: Int) {
  entitlementEvents(customer: $c, featureKeys: $f, after: $after, first: $first) {
    edges { cursor node { id cause changedFeatureKeys customer { externalId } entitlements { featureKey usageLimit } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const SUBSCRIBE = `subscription ($c: CustomerRef, $after: ID) {
  entitlementsChanged(customer: $c, after: $after) { id changedFeatureKeys customer { externalId } }
}`;
/** The log's latest id, or undefined while it is empty (an `after` must name a logged event). */
const latest = async () => {
  const id = await latestEventId(t.database.prisma, t.projectId);
  return id === 0n ? undefined : id.toString();
};

describe("entitlementEvents", () => {
  it("reads the log oldest first, in pages, filtered by customer and feature, each event as it was logged", async () => {
    const start = await latest(); // the first test: the log is empty
    await s.grant("log-1", { featureKey: "exports", usageLimit: 5 });
    await s.grant("log-2", { featureKey: "sso" });
    await s.grant("log-1", { featureKey: "sso" });
    await s.grant("log-1", { featureKey: "exports", usageLimit: 7 }); // log-1's exports is now 12

    const all = ok(await t.gql(EVENTS, { after: start, first: 2 })).entitlementEvents;
    expect(all.edges.map((edge: any) => [edge.node.customer.externalId, edge.node.changedFeatureKeys])).toEqual([
      ["log-1", ["exports"]],
      ["log-2", ["sso"]],
    ]);
    expect(all.pageInfo.hasNextPage).toBe(true);
    const rest = ok(await t.gql(EVENTS, { after: all.pageInfo.endCursor, first: 10 })).entitlementEvents;
    expect(rest.edges.map((edge: any) => edge.node.changedFeatureKeys)).toEqual([["sso"], ["exports"]]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const ids = [...all.edges, ...rest.edges].map((edge: any) => BigInt(edge.node.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    // The first event still says 5: it carries the entitlements as they were then.
    expect(all.edges[0].node.entitlements).toEqual([{ featureKey: "exports", usageLimit: 5 }]);
    expect(rest.edges[1].node.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 12 });

    const filtered = ok(await t.gql(EVENTS, { after: start, c: { externalId: "log-1" }, f: ["sso"] })).entitlementEvents;
    expect(filtered.edges.map((edge: any) => [edge.node.customer.externalId, edge.node.changedFeatureKeys])).toEqual([["log-1", ["sso"]]]);
  });

  it("refuses an `after` that is not an event id, or one the log does not hold", async () => {
    for (const after of ["not-an-id", "0", "-1", "1.5", "9223372036854775808", "99999999999999999999"]) {
      const malformed = await t.gql(EVENTS, { after });
      expect(malformed.errors?.[0]?.extensions, after).toMatchObject({ code: "VALIDATION_ERROR", field: "after" });
    }
    const unknown = await t.gql(EVENTS, { after: "987654321987" });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_OPERATION", field: "after" });
    // Another project's event is not this project's.
    const other = await t.newProject();
    const theirs = await t.gql(EVENTS, { after: await latest() }, { key: other.key });
    expect(theirs.errors?.[0]?.extensions?.code).toBe("INVALID_OPERATION");
  });

  it("an event past the retention is purged, and an `after` naming it is refused", async () => {
    await s.grant("log-2", { featureKey: "exports", usageLimit: 1 });
    const id = (await latest()) as string; // the grant just logged
    expect(ok(await t.gql(EVENTS, { after: id })).entitlementEvents.edges).toEqual([]);
    await t.database.prisma.loggedEvent.update({ where: { id: BigInt(id) }, data: { loggedAt: new Date(Date.now() - 31 * 86_400_000) } });
    expect(await purgeExpiredEvents(t.database.prisma, { retentionDays: 30 })).toBeGreaterThanOrEqual(1);
    expect((await t.gql(EVENTS, { after: id })).errors?.[0]?.extensions?.code).toBe("INVALID_OPERATION");
  });

  it("a refused mutation logs nothing", async () => {
    const before = await latest();
    const refused = await t.gql(
      `mutation { createGrant(input: { customer: { externalId: "failing" }, featureKey: "exports", usageLimit: -1 }) { id } }`,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe("VALIDATION_ERROR");
    expect(await latest()).toBe(before);
  });
});

describe("resuming a subscription", () => {
  it("replays exactly what was missed after `after`, in order, then goes live with no repeat", async () => {
    const first = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", t.adminKey, SUBSCRIBE, {
      c: { externalId: "resume" },
      after: await latest(),
    });
    open.push(first);
    let granted = (await s.grant("resume", { featureKey: "sso" })).id;
    const seen = (await first.next()).data.entitlementsChanged.id as string;
    await first.close();

    const toggle = async () => {
      if (granted) {
        ok(await t.gql(`mutation ($id: ID!) { voidGrant(id: $id) { id } }`, { id: granted }));
        granted = "";
      } else granted = (await s.grant("resume", { featureKey: "sso" })).id;
    };
    for (let index = 0; index < 20; index++) await toggle();
    const missed = (await readEvents(t.database.prisma, t.projectId, BigInt(seen), {}, 100)).map((event) => event.id);
    expect(missed).toHaveLength(20);

    const again = await subscribeSse((url, init) => t.app.fetch(url, init), "http://test/graphql", t.adminKey, SUBSCRIBE, {
      c: { externalId: "resume" },
      after: seen,
    });
    open.push(again);
    const replayed: string[] = [];
    for (let index = 0; index < 20; index++) replayed.push((await again.next()).data.entitlementsChanged.id);
    expect(replayed).toEqual(missed);
    await toggle();
    const live = (await again.next()).data.entitlementsChanged.id as string;
    expect(BigInt(live)).toBeGreaterThan(BigInt(missed.at(-1)!));
    await expect(again.next(300)).rejects.toThrow(/no event within/);
  });
});

describe("durable jobs", () => {
  it("edits of one plan entitlement are announced each as its own change: in a row (a revert too), and at once", async () => {
    const plan = await s.plan({ key: "stepping", entitlements: { exports: { usageLimit: 2 } } });
    await s.customer("stepper");
    await s.subscription("stepper", { planId: plan.id });
    const set = async (usageLimit: number) =>
      ok(
        await t.gql(
          `mutation ($p: ID!, $n: Float!) { setPlanEntitlement(input: { planId: $p, featureKey: "exports", usageLimit: $n }) { id } }`,
          {
            p: plan.id,
            n: usageLimit,
          },
        ),
      );
    /** The exports limit each event logged for the customer since `after` carries, in log order, once the jobs are done. */
    const announced = async (after: string | undefined) => {
      await waitUntil(async () => (await t.database.prisma.eventJob.count({ where: { projectId: t.projectId } })) === 0, {
        what: "the jobs to be done",
      });
      return ok(await t.gql(EVENTS, { after, c: { externalId: "stepper" } })).entitlementEvents.edges.map(
        (edge: any) => edge.node.entitlements.find((entitlement: any) => entitlement.featureKey === "exports").usageLimit,
      );
    };
    // In a row, back to where it began: each job compares its own edit's before and after, and a project's jobs run in order.
    const start = await latest();
    for (const limit of [5, 7, 2]) await set(limit);
    expect(await announced(start)).toEqual([5, 7, 2]);
    // At once: each edit reads the value the previous one left (a lock on the entry), so none is announced twice or lost.
    const again = await latest();
    await Promise.all([9, 11, 13].map(set));
    const concurrent = await announced(again);
    expect([...concurrent].sort((x: number, y: number) => x - y)).toEqual([9, 11, 13]);
    const now = ok(await t.gql(`{ customer(externalId: "stepper") { entitlement(featureKey: "exports") { usageLimit } } }`));
    expect(concurrent.at(-1)).toBe(now.customer.entitlement.usageLimit);
  });

  it("a job whose instance died after its first page is taken over from there: the rest logged, nothing twice", async () => {
    const plan = await s.plan({ key: "takeover", entitlements: { exports: { usageLimit: 1 } } });
    const customers = ["job-a", "job-b", "job-c"];
    for (const customer of customers) {
      await s.customer(customer);
      await s.subscription(customer, { planId: plan.id });
    }
    const planId = Buffer.from(plan.id, "base64").toString().split(":")[1]!;
    const feature = await t.database.prisma.feature.findFirstOrThrow({ where: { projectId: t.projectId, key: "sso" } });
    const rows = await t.database.prisma.customer.findMany({
      where: { projectId: t.projectId, externalId: { in: customers } },
      orderBy: { id: "asc" },
    });
    const start = await latest();
    // What a dead instance leaves: the catalog edit, its job past the first customer (whose
    // event that page logged), and a lease that runs out in a moment.
    const row = await t.database.prisma.planEntitlement.create({ data: { planId, featureId: feature.id } });
    await t.database.prisma.eventJob.create({
      data: {
        kind: "plan-entitlement",
        projectId: t.projectId,
        input: JSON.parse(
          JSON.stringify({
            kind: "plan-entitlement",
            projectId: t.projectId,
            planId,
            featureId: feature.id,
            before: null,
            after: storedValue(row),
          }),
        ),
        cursor: rows[0]!.id,
        leasedBy: "a-dead-instance",
        leasedUntil: new Date(Date.now() + 300),
      },
    });
    await waitUntil(
      async () => {
        t.jobs.wake(); // as a poll would, once the lease has run out
        return (await t.database.prisma.eventJob.count({ where: { projectId: t.projectId } })) === 0;
      },
      { what: "the job to be taken over and done", timeoutMs: 10_000, intervalMs: 100 },
    );
    const logged = await readEvents(t.database.prisma, t.projectId, BigInt(start ?? 0), {}, 100);
    expect(logged.map((event) => event.customerId).sort()).toEqual([rows[1]!.id, rows[2]!.id].sort());
  });
});
