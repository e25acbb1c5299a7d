// Subscriptions over time: status at any instant, plan changes as phases, cancellation,
// add-ons and overrides (docs/rules.md §1–§2).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, firstError, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";
import { subscriptionStatus } from "../../src/domain/subscription-status.ts";

let t: TestApp;
const ids: Record<string, string> = {};
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "api-calls", name: "API calls", type: "METERED" });
  await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" });
  await s.feature({ key: "seats", name: "Seats", type: "METERED" });
  ids.basic = (
    await s.plan({
      key: "basic",
      name: "Basic",
      entitlements: { "api-calls": { usageLimit: 100, isSoftLimit: true, resetPeriod: "DAILY" } },
    })
  ).id;
  ids.pro = (await s.plan({ key: "pro", name: "Pro", entitlements: { "api-calls": { usageLimit: 1000 } } })).id;
  ids.boost = (await s.plan({ key: "boost", name: "Boost", kind: "ADDON", entitlements: { "api-calls": { usageLimit: 500 } } })).id;
  ids.old = (await s.plan({ key: "old-addon", name: "Old", kind: "ADDON" })).id;
  ok(await t.gql(`mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: ids.old }));
  ids.customer = (await s.customer("acme")).id;
});
afterAll(() => t.close());

const SUBSCRIPTION_FIELDS = `id quantity startsAt endsAt trialEndsAt canceledAt billingAnchor plan { key }
  phases { plan { key } quantity startsAt endsAt } addons { id addon { key } quantity startsAt endsAt }
  overrides { id feature { key } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit }`;
const CREATE = `mutation ($input: CreateSubscriptionInput!) { createSubscription(input: $input) { ${SUBSCRIPTION_FIELDS} } }`;
const create = async (input: Record<string, unknown>) =>
  ok(await t.gql(CREATE, { input: { customer: { externalId: "acme" }, planId: ids.basic, ...input } })).createSubscription;
const iso = (date: Date) => date.toISOString();
const DAY = 86_400_000;

describe("createSubscription", () => {
  it("defaults quantity, start and billing anchor, and attaches add-ons", async () => {
    const before = Date.now();
    const subscription = await create({ addons: [{ addonId: ids.boost, quantity: 2 }] });
    expect(subscription.quantity).toBe(1);
    expect(Date.parse(subscription.startsAt)).toBeGreaterThanOrEqual(before - 5);
    expect(subscription.billingAnchor).toBe(subscription.startsAt);
    expect(subscription.phases).toEqual([{ plan: { key: "basic" }, quantity: 1, startsAt: subscription.startsAt, endsAt: null }]);
    expect(subscription.addons).toMatchObject([{ addon: { key: "boost" }, quantity: 2, startsAt: subscription.startsAt, endsAt: null }]);
  });

  it("accepts the customer by id and any RFC 3339 offset", async () => {
    const subscription = ok(
      await t.gql(CREATE, {
        input: { customer: { id: ids.customer }, planId: ids.pro, quantity: 3, startsAt: "2026-03-01T10:00:00+02:00" },
      }),
    ).createSubscription;
    expect(subscription).toMatchObject({ quantity: 3, startsAt: "2026-03-01T08:00:00.000Z", plan: { key: "pro" } });
  });

  it.each([
    [{ startsAt: "2026-01-02T00:00:00Z", endsAt: "2026-01-01T00:00:00Z" }, "VALIDATION_ERROR", "input.endsAt"],
    [
      { startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-02-01T00:00:00Z", trialEndsAt: "2026-03-01T00:00:00Z" },
      "VALIDATION_ERROR",
      "input.trialEndsAt",
    ],
    [{ quantity: 0 }, "VALIDATION_ERROR", "input.quantity"],
    [{ customer: { externalId: "acme", id: "Q3VzdG9tZXI6MQ==" } }, "VALIDATION_ERROR", "input.customer.id"],
    [{ customer: { externalId: "nobody" } }, "NOT_FOUND", "input.customer.externalId"],
    [{ planId: "boost" }, "INVALID_OPERATION", "input.planId"],
    [{ addons: [{ addonId: "boost" }, { addonId: "old" }] }, "INVALID_OPERATION", "input.addons.1.addonId"],
    // An add-on starting when the subscription has ended, as addSubscriptionAddon refuses it.
    [
      {
        startsAt: "2026-01-01T00:00:00Z",
        endsAt: "2026-02-01T00:00:00Z",
        addons: [{ addonId: "boost", startsAt: "2026-02-01T00:00:00Z" }],
      },
      "INVALID_OPERATION",
      "input.addons.0.startsAt",
    ],
  ])("refuses %# and writes nothing", async (overrides, code, field) => {
    const input: Record<string, unknown> = { customer: { externalId: "acme" }, planId: ids.basic, ...overrides };
    if (input.planId === "boost") input.planId = ids.boost;
    if (Array.isArray(input.addons))
      input.addons = input.addons.map((addon: { addonId: string }) => ({ ...addon, addonId: ids[addon.addonId] }));
    const count = () => t.database.prisma.customerSubscription.count({ where: { projectId: t.projectId } });
    const before = await count();
    const result = await t.gql(CREATE, { input });
    expect(firstError(result)).toMatchObject({ code, field });
    expect(await count()).toBe(before);
  });
});

describe("status(at:)", () => {
  it("follows docs/rules.md §2 at every boundary, the same through the API and the domain rule", async () => {
    // A timeline in the future, so that the cancellation can still be scheduled.
    const base = Math.ceil(Date.now() / DAY) * DAY + 10 * DAY;
    const at = (days: number, ms = 0) => new Date(base + days * DAY + ms);
    const times = { startsAt: at(0), trialEndsAt: at(14), endsAt: at(150), canceledAt: at(90) };
    const subscription = await create({ startsAt: iso(times.startsAt), trialEndsAt: iso(times.trialEndsAt), endsAt: iso(times.endsAt) });
    const canceled = ok(
      await t.gql(`mutation ($id: ID!, $at: DateTime!) { cancelSubscription(input: { subscriptionId: $id, at: $at }) { canceledAt } }`, {
        id: subscription.id,
        at: iso(times.canceledAt),
      }),
    );
    expect(canceled.cancelSubscription.canceledAt).toBe(iso(times.canceledAt));
    const instants = [at(0, -1), at(0), at(14, -1), at(14), at(90, -1), at(90), at(200)];
    const query = instants.map((instant, i) => `s${i}: status(at: "${iso(instant)}")`).join(" ");
    const node = ok(
      await t.gql(`query ($id: ID!) { node(id: $id) { ... on CustomerSubscription { ${query} } } }`, { id: subscription.id }),
    ).node;
    expect(Object.values(node)).toEqual(["SCHEDULED", "TRIALING", "TRIALING", "NON_RENEWING", "NON_RENEWING", "CANCELED", "CANCELED"]);
    expect(instants.map((instant) => subscriptionStatus(times, instant))).toEqual(Object.values(node));
    const expired = await create({ startsAt: iso(at(-100)), endsAt: iso(at(-50)) });
    const statuses = ok(
      await t.gql(
        `query ($id: ID!, $a: DateTime!, $b: DateTime!) { node(id: $id) { ... on CustomerSubscription { before: status(at: $a) after: status(at: $b) now: status } } }`,
        { id: expired.id, a: iso(at(-50, -1)), b: iso(at(-50)) },
      ),
    ).node;
    expect(statuses).toEqual({
      before: "NON_RENEWING",
      after: "EXPIRED",
      now: Date.now() < at(-50).getTime() ? "NON_RENEWING" : "EXPIRED",
    });
  });

  it("Customer.subscriptions(status:, at:) filters in the database exactly as status(at:) computes", async () => {
    const customer = await seed(t).customer("filters");
    const now = Date.now();
    const shapes = [
      { startsAt: iso(new Date(now + 10 * DAY)) },
      { startsAt: iso(new Date(now - 10 * DAY)) },
      { startsAt: iso(new Date(now - 10 * DAY)), trialEndsAt: iso(new Date(now + 5 * DAY)) },
      { startsAt: iso(new Date(now - 10 * DAY)), endsAt: iso(new Date(now + 5 * DAY)) },
      { startsAt: iso(new Date(now - 10 * DAY)), endsAt: iso(new Date(now - 5 * DAY)) },
      { startsAt: iso(new Date(now - 20 * DAY)), trialEndsAt: iso(new Date(now - 15 * DAY)), endsAt: iso(new Date(now + 1 * DAY)) },
    ];
    for (const shape of shapes) ok(await t.gql(CREATE, { input: { customer: { id: customer.id }, planId: ids.basic, ...shape } }));
    const last = ok(
      await t.gql(CREATE, { input: { customer: { id: customer.id }, planId: ids.basic, startsAt: iso(new Date(now - 10 * DAY)) } }),
    ).createSubscription;
    ok(await t.gql(`mutation ($id: ID!) { cancelSubscription(input: { subscriptionId: $id }) { id } }`, { id: last.id }));

    for (const at of [new Date(now), new Date(now + 7 * DAY), new Date(now - 12 * DAY)]) {
      const all = ok(
        await t.gql(
          `query ($id: ID!, $at: DateTime!) { node(id: $id) { ... on Customer {
        subscriptions(first: 50) { edges { node { id status(at: $at) } } } } } }`,
          { id: customer.id, at: iso(at) },
        ),
      ).node.subscriptions.edges;
      for (const status of ["SCHEDULED", "TRIALING", "ACTIVE", "NON_RENEWING", "CANCELED", "EXPIRED"]) {
        const filtered = ok(
          await t.gql(
            `query ($id: ID!, $at: DateTime!, $s: [SubscriptionStatus!]) { node(id: $id) { ... on Customer {
          subscriptions(status: $s, at: $at, first: 50) { totalCount edges { node { id } } } } } }`,
            { id: customer.id, at: iso(at), s: [status] },
          ),
        ).node.subscriptions;
        const expected = all.filter((edge: any) => edge.node.status === status).map((edge: any) => edge.node.id);
        expect({ at, status, ids: filtered.edges.map((edge: any) => edge.node.id) }).toEqual({ at, status, ids: expected });
        expect(filtered.totalCount).toBe(expected.length);
      }
    }
  });
});

describe("changeSubscriptionPlan", () => {
  it("closes the phase in force at `at` and opens one on the new plan, keeping the quantity", async () => {
    const subscription = await create({ startsAt: "2026-01-01T00:00:00Z", quantity: 4 });
    const changed = ok(
      await t.gql(
        `mutation ($id: ID!, $p: ID!) {
      changeSubscriptionPlan(input: { subscriptionId: $id, planId: $p, at: "2026-02-01T00:00:00Z" }) { ${SUBSCRIPTION_FIELDS} }
    }`,
        { id: subscription.id, p: ids.pro },
      ),
    ).changeSubscriptionPlan;
    expect(changed.phases).toEqual([
      { plan: { key: "basic" }, quantity: 4, startsAt: "2026-01-01T00:00:00.000Z", endsAt: "2026-02-01T00:00:00.000Z" },
      { plan: { key: "pro" }, quantity: 4, startsAt: "2026-02-01T00:00:00.000Z", endsAt: null },
    ]);
    expect(changed.plan.key).toBe("pro");
  });

  it("a change scheduled in the future leaves the plan of today in place", async () => {
    const subscription = await create({ quantity: 2 });
    const future = iso(new Date(Date.now() + 30 * DAY));
    const changed = ok(
      await t.gql(
        `mutation ($id: ID!, $p: ID!, $at: DateTime!) {
      changeSubscriptionPlan(input: { subscriptionId: $id, planId: $p, quantity: 5, at: $at }) { plan { key } quantity phases { plan { key } quantity } }
    }`,
        { id: subscription.id, p: ids.pro, at: future },
      ),
    ).changeSubscriptionPlan;
    expect(changed).toEqual({
      plan: { key: "basic" },
      quantity: 2,
      phases: [
        { plan: { key: "basic" }, quantity: 2 },
        { plan: { key: "pro" }, quantity: 5 },
      ],
    });
  });

  it("refuses a change on a canceled subscription or to an add-on", async () => {
    const subscription = await create({});
    const toAddon = await t.gql(
      `mutation ($id: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $id, planId: $p }) { id } }`,
      { id: subscription.id, p: ids.boost },
    );
    expect(firstError(toAddon)).toMatchObject({ code: "INVALID_OPERATION", field: "input.planId" });
    ok(await t.gql(`mutation ($id: ID!) { cancelSubscription(input: { subscriptionId: $id }) { id } }`, { id: subscription.id }));
    const change = await t.gql(
      `mutation ($id: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $id, planId: $p }) { id } }`,
      { id: subscription.id, p: ids.pro },
    );
    expect(errorCodes(change)).toEqual(["INVALID_OPERATION"]);
    const again = await t.gql(`mutation ($id: ID!) { cancelSubscription(input: { subscriptionId: $id }) { id } }`, { id: subscription.id });
    expect(errorCodes(again)).toEqual(["INVALID_OPERATION"]);
  });
});

describe("add-ons", () => {
  it("adds and removes an add-on over its own window; removing twice is refused", async () => {
    const subscription = await create({ startsAt: "2026-01-01T00:00:00Z" });
    const added = ok(
      await t.gql(
        `mutation ($id: ID!, $a: ID!) {
      addSubscriptionAddon(input: { subscriptionId: $id, addonId: $a, quantity: 3, startsAt: "2026-02-01T00:00:00Z" }) { id quantity startsAt endsAt addon { key } subscription { id } }
    }`,
        { id: subscription.id, a: ids.boost },
      ),
    ).addSubscriptionAddon;
    expect(added).toMatchObject({
      quantity: 3,
      startsAt: "2026-02-01T00:00:00.000Z",
      endsAt: null,
      addon: { key: "boost" },
      subscription: { id: subscription.id },
    });
    const removed = ok(
      await t.gql(`mutation ($id: ID!) { removeSubscriptionAddon(id: $id, at: "2026-03-01T00:00:00Z") { endsAt } }`, { id: added.id }),
    );
    expect(removed.removeSubscriptionAddon.endsAt).toBe("2026-03-01T00:00:00.000Z");
    const again = await t.gql(`mutation ($id: ID!) { removeSubscriptionAddon(id: $id, at: "2026-04-01T00:00:00Z") { endsAt } }`, {
      id: added.id,
    });
    expect(errorCodes(again)).toEqual(["INVALID_OPERATION"]);
    const window = await t.gql(
      `mutation ($id: ID!, $a: ID!) {
      addSubscriptionAddon(input: { subscriptionId: $id, addonId: $a, startsAt: "2026-02-01T00:00:00Z", endsAt: "2026-02-01T00:00:00Z" }) { id }
    }`,
      { id: subscription.id, a: ids.boost },
    );
    expect(firstError(window)).toMatchObject({ code: "VALIDATION_ERROR", field: "input.endsAt" });
  });
  it("refuses an add-on starting at or after the subscription's end, as createSubscription does", async () => {
    const subscription = await create({ startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-02-01T00:00:00Z" });
    const late = await t.gql(
      `mutation ($id: ID!, $a: ID!) { addSubscriptionAddon(input: { subscriptionId: $id, addonId: $a, startsAt: "2026-02-01T00:00:00Z" }) { id } }`,
      { id: subscription.id, a: ids.boost },
    );
    expect(firstError(late)).toEqual({ code: "INVALID_OPERATION", field: "input.startsAt" });
  });

  it("moves an add-on's end only earlier, as voidGrant does", async () => {
    const subscription = await create({ startsAt: "2026-01-01T00:00:00Z" });
    const added = ok(
      await t.gql(
        `mutation ($id: ID!, $a: ID!) { addSubscriptionAddon(input: { subscriptionId: $id, addonId: $a, endsAt: "2099-03-01T00:00:00Z" }) { id } }`,
        {
          id: subscription.id,
          a: ids.boost,
        },
      ),
    ).addSubscriptionAddon;
    const REMOVE = `mutation ($id: ID!, $at: DateTime) { removeSubscriptionAddon(id: $id, at: $at) { endsAt } }`;
    for (const at of ["2099-03-01T00:00:00Z", "2099-04-01T00:00:00Z"]) {
      expect(firstError(await t.gql(REMOVE, { id: added.id, at }))).toEqual({ code: "INVALID_OPERATION", field: "at" });
    }
    expect(ok(await t.gql(REMOVE, { id: added.id, at: "2099-02-01T00:00:00Z" })).removeSubscriptionAddon.endsAt).toBe(
      "2099-02-01T00:00:00.000Z",
    );
  });
});

describe("overrides", () => {
  const SET = `mutation ($input: SetSubscriptionOverrideInput!) {
    setSubscriptionOverride(input: $input) { id feature { key } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit staticValue }
  }`;

  it("stores only the given fields and inherits the rest from the plan entitlement", async () => {
    const subscription = await create({});
    const override = ok(
      await t.gql(SET, { input: { subscriptionId: subscription.id, featureKey: "api-calls", usageLimit: 500 } }),
    ).setSubscriptionOverride;
    expect(override).toMatchObject({
      feature: { key: "api-calls" },
      isEnabled: true,
      usageLimit: 500,
      isUnlimited: false,
      resetPeriod: "DAILY",
      isSoftLimit: true,
    });
    const unlimited = ok(
      await t.gql(SET, { input: { subscriptionId: subscription.id, featureKey: "api-calls", isUnlimited: true } }),
    ).setSubscriptionOverride;
    expect(unlimited).toMatchObject({ id: override.id, usageLimit: null, isUnlimited: true, resetPeriod: "DAILY" });
    const listed = ok(
      await t.gql(`query ($id: ID!) { node(id: $id) { ... on CustomerSubscription { overrides { feature { key } isUnlimited } } } }`, {
        id: subscription.id,
      }),
    );
    expect(listed.node.overrides).toEqual([{ feature: { key: "api-calls" }, isUnlimited: true }]);

    const removed = ok(
      await t.gql(`mutation ($id: ID!) { removeSubscriptionOverride(subscriptionId: $id, featureKey: "api-calls") { overrides { id } } }`, {
        id: subscription.id,
      }),
    );
    expect(removed.removeSubscriptionOverride.overrides).toEqual([]);
    const again = await t.gql(`mutation ($id: ID!) { removeSubscriptionOverride(subscriptionId: $id, featureKey: "api-calls") { id } }`, {
      id: subscription.id,
    });
    expect(errorCodes(again)).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: override.id }))).toEqual(["NOT_FOUND"]);
  });

  it("a METERED override of a feature the plan lacks needs a limit of its own", async () => {
    const subscription = await create({});
    const missing = await t.gql(SET, { input: { subscriptionId: subscription.id, featureKey: "seats", isSoftLimit: true } });
    expect(firstError(missing)).toMatchObject({ code: "VALIDATION_ERROR", field: "input.usageLimit" });
    const given = ok(
      await t.gql(SET, { input: { subscriptionId: subscription.id, featureKey: "seats", usageLimit: 7 } }),
    ).setSubscriptionOverride;
    expect(given).toMatchObject({ usageLimit: 7, resetPeriod: "MONTHLY", isSoftLimit: false });
    const wrongType = await t.gql(SET, { input: { subscriptionId: subscription.id, featureKey: "sso", usageLimit: 7 } });
    expect(firstError(wrongType)).toMatchObject({ code: "VALIDATION_ERROR", field: "input.usageLimit" });
  });
});

describe("Plan.subscriptions", () => {
  it("lists the subscriptions on the plan now or from a scheduled phase", async () => {
    const plan = await seed(t).plan({ key: "listed", name: "Listed" });
    const now = await create({ planId: plan.id });
    const later = await create({ planId: plan.id, startsAt: iso(new Date(Date.now() + 5 * DAY)) });
    await create({});
    const page = ok(
      await t.gql(
        `query ($id: ID!) { plan(id: $id) {
      all: subscriptions { totalCount edges { node { id } } }
      scheduled: subscriptions(status: [SCHEDULED]) { totalCount edges { node { id } } }
    } }`,
        { id: plan.id },
      ),
    ).plan;
    expect(page.all.edges.map((edge: any) => edge.node.id)).toEqual([now.id, later.id]);
    expect(page.all.totalCount).toBe(2);
    expect(page.scheduled).toEqual({ totalCount: 1, edges: [{ node: { id: later.id } }] });
  });
});
