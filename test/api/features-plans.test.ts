// The catalog: features, plans and add-ons, and what each plan gives per feature.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, ok, firstError, type GraphQLResponse, type TestApp } from "../helpers/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());


const CREATE_FEATURE = `mutation ($input: CreateFeatureInput!) {
  createFeature(input: $input) { id key name type status unitPlural levels { level name value isUnlimited } }
}`;
const SET_ENTITLEMENT = `mutation ($input: SetPlanEntitlementInput!) {
  setPlanEntitlement(input: $input) { id feature { key } plan { key } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit staticValue }
}`;

describe("features", () => {
  it("creates each type, keeping levels lowest first", async () => {
    const seats = ok(
      await t.gql(CREATE_FEATURE, {
        input: {
          key: "user-licenses",
          name: "User licences",
          type: "METERED",
          unitSingular: "licence",
          unitPlural: "licences",
          levels: [
            { level: 25, name: "25", value: "25" },
            { level: 3, name: "3", value: "3" },
            { level: 99, name: "Unlimited", value: "unlimited", isUnlimited: true },
          ],
        },
      }),
    ).createFeature;
    expect(seats).toMatchObject({ key: "user-licenses", type: "METERED", status: "ACTIVE", unitPlural: "licences" });
    expect(seats.levels.map((level: { level: number }) => level.level)).toEqual([3, 25, 99]);
    expect(seats.levels[2].isUnlimited).toBe(true);
    ok(await t.gql(CREATE_FEATURE, { input: { key: "sso", name: "SSO", type: "BOOLEAN" } }));
    ok(
      await t.gql(CREATE_FEATURE, {
        input: {
          key: "support",
          name: "Support",
          type: "STATIC",
          levels: [
            { level: 1, name: "Email", value: "email" },
            { level: 2, name: "Chat", value: "chat" },
          ],
        },
      }),
    );
    const byKey = ok(await t.gql(`{ feature(key: "support") { type levels { value } } }`)).feature;
    expect(byKey).toEqual({ type: "STATIC", levels: [{ value: "email" }, { value: "chat" }] });
    const filtered = ok(await t.gql(`{ features(types: [BOOLEAN, STATIC]) { totalCount edges { node { key } } } }`)).features;
    expect(filtered.totalCount).toBe(2);
    expect(filtered.edges.map((edge: { node: { key: string } }) => edge.node.key).sort()).toEqual(["sso", "support"]);
  });

  it("refuses a duplicate key with ALREADY_EXISTS naming input.key, and writes nothing", async () => {
    const before = await t.database.prisma.feature.count({ where: { projectId: t.projectId } });
    const result = await t.gql(CREATE_FEATURE, { input: { key: "sso", name: "Again", type: "BOOLEAN" } });
    expect(firstError(result)).toEqual({ code: "ALREADY_EXISTS", field: "input.key" });
    expect(await t.database.prisma.feature.count({ where: { projectId: t.projectId } })).toBe(before);
  });

  it.each([
    [{ key: "has space", name: "X", type: "BOOLEAN" }, "input.key"],
    [{ key: "", name: "X", type: "BOOLEAN" }, "input.key"],
    [{ key: "k".repeat(65), name: "X", type: "BOOLEAN" }, "input.key"],
    [{ key: "ok-key", name: "   ", type: "BOOLEAN" }, "input.name"],
    [{ key: "ok-key", name: "bad\u0000name", type: "BOOLEAN" }, "input.name"],
    [{ key: "ok-key", name: "x".repeat(201), type: "BOOLEAN" }, "input.name"],
    [{ key: "ok-key", name: "X", type: "STATIC", levels: [{ level: 1, name: "A", value: "a" }, { level: 1, name: "B", value: "b" }] }, "input.levels.1.level"],
  ])("refuses invalid input %# with VALIDATION_ERROR naming the field", async (input, field) => {
    const result = await t.gql(CREATE_FEATURE, { input });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field });
    expect(await t.database.prisma.feature.count({ where: { projectId: t.projectId, key: "ok-key" } })).toBe(0);
  });

  it("looks a feature or plan up by exactly one of id or key", async () => {
    for (const query of [`{ feature { id } }`, `{ plan { id } }`, `{ feature(key: "sso", id: "RmVhdHVyZTox") { id } }`]) {
      expect(firstError(await t.gql(query))).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    }
    expect(firstError(await t.gql(`{ feature(key: "nope") { id } }`))).toEqual({ code: "NOT_FOUND", field: "key" });
  });

  it("updates and archives; an archived feature stays readable", async () => {
    const { id } = ok(await t.gql(`{ feature(key: "sso") { id } }`)).feature;
    const updated = ok(await t.gql(`mutation ($id: ID!) { updateFeature(input: { id: $id, name: "Single sign-on", description: "SAML" }) { name description } }`, { id }));
    expect(updated.updateFeature).toEqual({ name: "Single sign-on", description: "SAML" });
    expect(ok(await t.gql(`mutation ($id: ID!) { archiveFeature(id: $id) { status } }`, { id })).archiveFeature.status).toBe("ARCHIVED");
    const archived = ok(await t.gql(`{ features(status: ARCHIVED) { totalCount edges { node { key } } } }`)).features;
    expect(archived).toEqual({ totalCount: 1, edges: [{ node: { key: "sso" } }] });
  });
});

describe("plans and plan entitlements", () => {
  let planId: string;
  let addonId: string;

  it("creates plans and add-ons, filtered by kind", async () => {
    const created = ok(await t.gql(`mutation {
      plan: createPlan(input: { key: "team", name: "Team", metadata: { tier: 2 } }) { id kind status metadata }
      addon: createPlan(input: { key: "more-seats", name: "More seats", kind: ADDON }) { id kind }
    }`));
    expect(created.plan).toMatchObject({ kind: "PLAN", status: "ACTIVE", metadata: { tier: 2 } });
    expect(created.addon.kind).toBe("ADDON");
    planId = created.plan.id;
    addonId = created.addon.id;
    const addons = ok(await t.gql(`{ plans(kind: ADDON) { totalCount edges { node { key } } } }`)).plans;
    expect(addons).toEqual({ totalCount: 1, edges: [{ node: { key: "more-seats" } }] });
    expect(firstError(await t.gql(`mutation { createPlan(input: { key: "team", name: "Again" }) { id } }`))).toEqual({
      code: "ALREADY_EXISTS",
      field: "input.key",
    });
  });

  it("sets, replaces and lists entitlements by feature key, defaulting resetPeriod to MONTHLY", async () => {
    const seats = ok(await t.gql(SET_ENTITLEMENT, { input: { planId, featureKey: "user-licenses", usageLimit: 10 } })).setPlanEntitlement;
    expect(seats).toMatchObject({ feature: { key: "user-licenses" }, plan: { key: "team" }, isEnabled: true, usageLimit: 10, isUnlimited: false, resetPeriod: "MONTHLY", isSoftLimit: false, staticValue: null });
    const replaced = ok(await t.gql(SET_ENTITLEMENT, { input: { planId, featureKey: "user-licenses", isUnlimited: true, resetPeriod: "NEVER" } })).setPlanEntitlement;
    expect(replaced).toMatchObject({ id: seats.id, usageLimit: null, isUnlimited: true, resetPeriod: "NEVER" });
    ok(await t.gql(SET_ENTITLEMENT, { input: { planId, featureKey: "support", staticValue: "chat" } }));
    const plan = ok(await t.gql(`query ($id: ID!) { plan(id: $id) { entitlements { feature { key } isUnlimited staticValue } } }`, { id: planId })).plan;
    expect(plan.entitlements).toEqual([
      { feature: { key: "support" }, isUnlimited: false, staticValue: "chat" },
      { feature: { key: "user-licenses" }, isUnlimited: true, staticValue: null },
    ]);
    const including = ok(await t.gql(`{ feature(key: "support") { plans { totalCount edges { node { key } } } } }`)).feature.plans;
    expect(including).toEqual({ totalCount: 1, edges: [{ node: { key: "team" } }] });
  });

  it.each([
    [{ featureKey: "user-licenses" }, "input.usageLimit", "VALIDATION_ERROR"],
    [{ featureKey: "user-licenses", usageLimit: -5 }, "input.usageLimit", "VALIDATION_ERROR"],
    [{ featureKey: "user-licenses", usageLimit: 5, isUnlimited: true }, "input.usageLimit", "VALIDATION_ERROR"],
    [{ featureKey: "user-licenses", usageLimit: 5, staticValue: "x" }, "input.staticValue", "VALIDATION_ERROR"],
    [{ featureKey: "support" }, "input.staticValue", "VALIDATION_ERROR"],
    [{ featureKey: "support", staticValue: "phone" }, "input.staticValue", "VALIDATION_ERROR"],
    [{ featureKey: "support", staticValue: "chat", usageLimit: 3 }, "input.usageLimit", "VALIDATION_ERROR"],
    [{ featureKey: "no-such-feature", usageLimit: 1 }, "input.featureKey", "NOT_FOUND"],
    [{ featureKey: "sso" }, "input.featureKey", "INVALID_OPERATION"],
  ])("refuses entitlement %# and changes nothing", async (input, field, code) => {
    const before = await t.database.prisma.planEntitlement.findMany({ where: { planId: undefined, plan: { projectId: t.projectId } }, orderBy: { id: "asc" } });
    const result = await t.gql(SET_ENTITLEMENT, { input: { planId, ...input } });
    expect(firstError(result)).toEqual({ code, field });
    expect(await t.database.prisma.planEntitlement.findMany({ where: { plan: { projectId: t.projectId } }, orderBy: { id: "asc" } })).toEqual(before);
  });

  it("refuses a Feature ID where a Plan ID belongs", async () => {
    const { id } = ok(await t.gql(`{ feature(key: "support") { id } }`)).feature;
    const result = await t.gql(SET_ENTITLEMENT, { input: { planId: id, featureKey: "support", staticValue: "chat" } });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field: "input.planId" });
  });

  it("removes an entitlement (kept as history) and can set it again", async () => {
    const removed = ok(await t.gql(`mutation ($id: ID!) { removePlanEntitlement(planId: $id, featureKey: "support") { entitlements { feature { key } } } }`, { id: planId }));
    expect(removed.removePlanEntitlement.entitlements).toEqual([{ feature: { key: "user-licenses" } }]);
    const again = await t.gql(`mutation ($id: ID!) { removePlanEntitlement(planId: $id, featureKey: "support") { id } }`, { id: planId });
    expect(errorCodes(again)).toEqual(["NOT_FOUND"]);
    ok(await t.gql(SET_ENTITLEMENT, { input: { planId, featureKey: "support", staticValue: "email" } }));
    const plan = ok(await t.gql(`query ($id: ID!) { plan(id: $id) { entitlements { feature { key } staticValue } } }`, { id: planId })).plan;
    expect(plan.entitlements[0]).toEqual({ feature: { key: "support" }, staticValue: "email" });
  });

  it("archives a plan: no new subscriptions, existing ones unchanged", async () => {
    ok(await t.gql(`mutation { createCustomer(input: { externalId: "early" }) { id } }`));
    const subscribed = ok(await t.gql(`mutation ($p: ID!) { createSubscription(input: { customer: { externalId: "early" }, planId: $p }) { id plan { key } } }`, { p: planId }));
    expect(ok(await t.gql(`mutation ($id: ID!) { archivePlan(id: $id) { status } }`, { id: planId })).archivePlan.status).toBe("ARCHIVED");
    const refused = await t.gql(`mutation ($p: ID!) { createSubscription(input: { customer: { externalId: "early" }, planId: $p }) { id } }`, { p: planId });
    expect(firstError(refused)).toEqual({ code: "INVALID_OPERATION", field: "input.planId" });
    const still = ok(await t.gql(`query ($id: ID!) { node(id: $id) { ... on CustomerSubscription { plan { key status } } } }`, { id: subscribed.createSubscription.id }));
    expect(still.node.plan).toEqual({ key: "team", status: "ARCHIVED" });
    const addonAsPlan = await t.gql(`mutation ($p: ID!) { createSubscription(input: { customer: { externalId: "early" }, planId: $p }) { id } }`, { p: addonId });
    expect(firstError(addonAsPlan)).toEqual({ code: "INVALID_OPERATION", field: "input.planId" });
  });
});
