// Scheduled transitions (docs/rules.md §6): instants set ahead of time — a trial ending, a plan
// change, a grant expiring or starting, an add-on starting, a cancellation taking effect —
// are announced once when a scan passes them, with no write at that instant. The scans are
// driven with explicit clocks here; test/server/live-clients.test.ts shows the real timer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { seed, type SubscriptionSeed } from "../helpers/seed.ts";
import { waitUntil } from "../helpers/wait.ts";
import { readEvents } from "../../src/db/event-log.ts";
import { createTransitionScanner, type TransitionScanner } from "../../src/workers/transition-scan.ts";
import { createLogger } from "../../src/logger.ts";

let t: TestApp;
let scanner: TransitionScanner;
const T0 = new Date();
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
/** The last event of the project's log that takeEvents has handed out. */
let position = 0n;

// Each run scans with a cursor of its own: files sharing a database do not take its windows.
const cursorName = `test-${crypto.randomUUID()}`;
const newScanner = () => createTransitionScanner({ prisma: t.database.prisma, events: t.events, log: createLogger("silent"), cursorName });

beforeAll(async () => {
  t = await createTestApp();
  scanner = newScanner();
  // The first scan only places the cursor at T0.
  expect(await scanner.scan(T0)).toBeNull();
});
afterAll(() => t.close());

/** The events logged for this project since the last take. */
const loggedSince = () => readEvents(t.database.prisma, t.projectId, position, {}, 1000);

/**
 * Scans up to `now` and waits for the window's job to be done (by this app's job runner, or
 * another's on a shared database): how many SCHEDULED_TRANSITION events this project got,
 * or null when there was no window to take.
 */
async function scan(scanning: TransitionScanner, now: Date): Promise<number | null> {
  const window = await scanning.scan(now);
  if (!window) return null;
  const to = window.to.toISOString();
  await waitUntil(
    async () => (await t.database.prisma.eventJob.count({ where: { kind: "transitions", input: { path: ["to"], equals: to } } })) === 0,
    { what: "the window's job to be done" },
  );
  return (await loggedSince()).filter((event) => event.type === "ENTITLEMENTS_CHANGED" && event.data.cause === "SCHEDULED_TRANSITION")
    .length;
}

/** The entitlements-changed events logged since the last call, as (externalId, cause, changed keys, occurredAt). */
async function takeEvents() {
  const logged = await loggedSince();
  position = BigInt(logged.at(-1)?.id ?? position);
  const events = logged.flatMap((event) => (event.type === "ENTITLEMENTS_CHANGED" ? [event] : []));
  const customers = await t.database.prisma.customer.findMany({ where: { id: { in: events.map((event) => event.customerId) } } });
  const externalIdOf = new Map(customers.map((customer) => [customer.id, customer.externalId]));
  return events
    .map((event) => ({
      customer: externalIdOf.get(event.customerId),
      cause: event.data.cause,
      changedFeatureKeys: event.data.changedFeatureKeys,
      occurredAt: event.occurredAt,
    }))
    .sort((a, b) => String(a.customer).localeCompare(String(b.customer)));
}

describe("scheduled transitions", () => {
  let ids: Record<string, string>;

  beforeAll(async () => {
    const s = seed(t);
    await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" });
    await s.feature({ key: "exports", name: "Exports", type: "METERED" });
    ids = {
      pro: (await s.plan({ key: "pro", name: "Pro", entitlements: { sso: {}, exports: { usageLimit: 100 } } })).id,
      basic: (await s.plan({ key: "basic", name: "Basic", entitlements: { exports: { usageLimit: 10 } } })).id,
      boost: (await s.plan({ key: "boost", name: "Boost", kind: "ADDON", entitlements: { exports: { usageLimit: 50 } } })).id,
    };
    const customers = ["trial-lapses", "trial-converts", "downgrades", "promo", "early-bird", "boosted", "leaving", "left-now"];
    for (const externalId of customers) await s.customer(externalId);

    const subscribe = async (externalId: string, extra: Omit<SubscriptionSeed, "planId"> = {}) =>
      (await s.subscription(externalId, { planId: ids.pro!, ...extra })).id;
    // A trial nobody paid for ends the subscription; a converted one carries on unchanged.
    await subscribe("trial-lapses", { trialEndsAt: at(20), endsAt: at(20) });
    await subscribe("trial-converts", { trialEndsAt: at(20) });
    const downgrading = await subscribe("downgrades");
    ok(
      await t.gql(
        `mutation ($s: ID!, $basic: ID!, $when: DateTime!) { changeSubscriptionPlan(input: { subscriptionId: $s, planId: $basic, at: $when }) { id } }`,
        {
          s: downgrading,
          basic: ids.basic,
          when: at(30),
        },
      ),
    );
    await s.grant("promo", { featureKey: "sso", expiresAt: at(40) });
    await s.grant("early-bird", { featureKey: "exports", usageLimit: 5, effectiveAt: at(40) });
    const boosted = await subscribe("boosted");
    ok(
      await t.gql(
        `mutation ($s: ID!, $boost: ID!, $from: DateTime!) { addSubscriptionAddon(input: { subscriptionId: $s, addonId: $boost, startsAt: $from }) { id } }`,
        {
          s: boosted,
          boost: ids.boost,
          from: at(50),
        },
      ),
    );
    const leaving = await subscribe("leaving");
    ok(
      await t.gql(`mutation ($s: ID!, $when: DateTime!) { cancelSubscription(input: { subscriptionId: $s, at: $when }) { id } }`, {
        s: leaving,
        when: at(50),
      }),
    );
    // Canceled now: the cancel's own event tells subscribers; a scan must not repeat it.
    const leftNow = await subscribe("left-now");
    ok(await t.gql(`mutation ($s: ID!) { cancelSubscription(input: { subscriptionId: $s }) { id } }`, { s: leftNow }));
    expect(Date.now()).toBeLessThan(at(10).getTime());
    // What the writes themselves told is not what these tests are about: drop it, all of it.
    await takeEvents();
  });

  it("announces nothing for instants the writes themselves set to now", async () => {
    expect(await scan(scanner, at(10))).toBe(0);
    expect(await takeEvents()).toEqual([]);
  });

  it("announces a trial ending without conversion, and not one that converts", async () => {
    expect(await scan(scanner, at(21))).toBe(1);
    expect(await takeEvents()).toEqual([
      { customer: "trial-lapses", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["exports", "sso"], occurredAt: at(20).toISOString() },
    ]);
  });

  it("announces a plan change taking effect", async () => {
    expect(await scan(scanner, at(31))).toBe(1);
    expect(await takeEvents()).toEqual([
      { customer: "downgrades", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["exports", "sso"], occurredAt: at(30).toISOString() },
    ]);
  });

  it("announces a grant expiring and a grant starting", async () => {
    expect(await scan(scanner, at(41))).toBe(2);
    expect(await takeEvents()).toEqual([
      { customer: "early-bird", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["exports"], occurredAt: at(40).toISOString() },
      { customer: "promo", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["sso"], occurredAt: at(40).toISOString() },
    ]);
  });

  it("announces an add-on starting and a cancellation taking effect", async () => {
    expect(await scan(scanner, at(51))).toBe(2);
    expect(await takeEvents()).toEqual([
      { customer: "boosted", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["exports"], occurredAt: at(50).toISOString() },
      { customer: "leaving", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["exports", "sso"], occurredAt: at(50).toISOString() },
    ]);
    // What the event says is what a query at that instant answers.
    const after = ok(
      await t.gql(`query ($at: DateTime!) { customer(externalId: "boosted") { entitlements(at: $at) { featureKey usageLimit } } }`, {
        at: at(51),
      }),
    );
    expect(after.customer.entitlements).toContainEqual({ featureKey: "exports", usageLimit: 150 });
  });

  it("scans each window once across instances sharing the cursor", async () => {
    await seed(t).grant("promo", { featureKey: "sso", expiresAt: at(60) });
    await takeEvents(); // the grant's own event
    const other = newScanner();
    const results = await Promise.all([scan(scanner, at(61)), scan(other, at(61))]);
    expect(results.filter((result) => result === null)).toHaveLength(1);
    expect(await takeEvents()).toEqual([
      { customer: "promo", cause: "SCHEDULED_TRANSITION", changedFeatureKeys: ["sso"], occurredAt: at(60).toISOString() },
    ]);
    // The window is gone: scanning up to the same instant again finds nothing to take.
    expect(await scan(other, at(61))).toBeNull();
  });
});
