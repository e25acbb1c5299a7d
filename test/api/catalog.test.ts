// The catalog through HTTP: features (each type, levels lowest first), plans and add-ons,
// what each plan gives per feature, the lookups and filters users page through, and the
// errors a careless call gets — each failed mutation leaving the catalog exactly as it was.
// (That another project sees none of it, and may reuse its keys: test/api/tenancy.test.ts.)
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, ok, firstError, globalIdOf, type TestApp } from "../helpers/app.ts";
import { seed, type Seed } from "../helpers/seed.ts";
import { waitUntil } from "../helpers/wait.ts";

let t: TestApp;
let key: string;
let projectId: string;
let s: Seed;

beforeAll(async () => {
  t = await createTestApp();
  ({ key, projectId } = await t.newProject("catalog"));
  s = seed(t, key);
});
afterAll(() => t.close());

const gql = (query: string, variables?: Record<string, unknown>) => t.gql(query, variables, { key });
const keysOf = (connection: { edges: { node: { key: string } }[] }) => connection.edges.map((edge) => edge.node.key);

/** Every catalog row of this file's project, as stored: a failed mutation must leave it equal. */
async function catalogRows() {
  const prisma = t.database.prisma;
  return {
    features: await prisma.feature.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
    plans: await prisma.plan.findMany({ where: { projectId }, orderBy: { id: "asc" } }),
    entitlements: await prisma.planEntitlement.findMany({ where: { plan: { projectId } }, orderBy: { id: "asc" } }),
  };
}
const rowCounts = (rows: Awaited<ReturnType<typeof catalogRows>>) => ({
  features: rows.features.length,
  plans: rows.plans.length,
  entitlements: rows.entitlements.length,
});

/** Runs a mutation that must fail, and checks it changed nothing. */
async function refusedWithoutWriting(query: string, variables?: Record<string, unknown>) {
  const before = await catalogRows();
  const result = await gql(query, variables);
  expect(result.data ?? null).toBeNull();
  const after = await catalogRows();
  expect(rowCounts(after)).toEqual(rowCounts(before));
  expect(after).toEqual(before);
  return result;
}

const FEATURE_FIELDS = `id key name description type unitSingular unitPlural status metadata createdAt updatedAt
  levels { level name value isUnlimited }`;
const CREATE_FEATURE = `mutation ($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`;
const UPDATE_FEATURE = `mutation ($input: UpdateFeatureInput!) { updateFeature(input: $input) { ${FEATURE_FIELDS} } }`;
const PLAN_FIELDS = `id key name description kind status metadata createdAt updatedAt`;
const CREATE_PLAN = `mutation ($input: CreatePlanInput!) { createPlan(input: $input) { ${PLAN_FIELDS} } }`;
const UPDATE_PLAN = `mutation ($input: UpdatePlanInput!) { updatePlan(input: $input) { ${PLAN_FIELDS} } }`;
const SET = `mutation ($input: SetPlanEntitlementInput!) {
  setPlanEntitlement(input: $input) {
    id plan { key } feature { key } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit staticValue
  }
}`;
const REMOVE = `mutation ($planId: ID!, $featureKey: String!) {
  removePlanEntitlement(planId: $planId, featureKey: $featureKey) { key entitlements { feature { key } } }
}`;
const PLAN_ENTITLEMENTS = `query ($id: ID!) {
  plan(id: $id) { entitlements { feature { key } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit staticValue } }
}`;
const FEATURE_PLANS = `query ($key: String!, $first: Int, $after: String) {
  feature(key: $key) {
    plans(first: $first, after: $after) {
      totalCount edges { node { key kind } } pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}`;

const createFeature = async (input: Record<string, unknown>) => ok(await gql(CREATE_FEATURE, { input })).createFeature;
const createPlan = async (input: Record<string, unknown>) => ok(await gql(CREATE_PLAN, { input })).createPlan;
const setEntitlement = async (input: Record<string, unknown>) => ok(await gql(SET, { input })).setPlanEntitlement;

describe("features", () => {
  const ids: Record<string, string> = {};

  it("creates a BOOLEAN feature with defaults", async () => {
    const sso = await createFeature({ key: "sso", name: "Single sign-on", type: "BOOLEAN" });
    ids.sso = sso.id;
    expect(sso).toMatchObject({
      key: "sso",
      name: "Single sign-on",
      description: null,
      type: "BOOLEAN",
      unitSingular: null,
      unitPlural: null,
      status: "ACTIVE",
      metadata: null,
      levels: [],
    });
    expect(Date.parse(sso.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(sso.updatedAt).toBe(sso.createdAt);
  });

  it("creates a METERED feature, storing its levels lowest first whatever order they came in", async () => {
    const seats = await createFeature({
      key: "seats",
      name: "  Seats  ",
      description: "Named users.\nBilled monthly.",
      type: "METERED",
      unitSingular: "seat",
      unitPlural: "seats",
      metadata: { owner: "growth", tiers: [5, 25], nested: { beta: true } },
      levels: [
        { level: 25, name: "Team", value: "25" },
        { level: 1000, name: "Unlimited", value: "unlimited", isUnlimited: true },
        { level: 5, name: "Starter", value: "5" },
      ],
    });
    ids.seats = seats.id;
    expect(seats).toMatchObject({
      key: "seats",
      name: "Seats",
      description: "Named users.\nBilled monthly.",
      type: "METERED",
      unitSingular: "seat",
      unitPlural: "seats",
      metadata: { owner: "growth", tiers: [5, 25], nested: { beta: true } },
    });
    expect(seats.levels).toEqual([
      { level: 5, name: "Starter", value: "5", isUnlimited: false },
      { level: 25, name: "Team", value: "25", isUnlimited: false },
      { level: 1000, name: "Unlimited", value: "unlimited", isUnlimited: true },
    ]);
  });

  it("creates a STATIC feature with levels, read back lowest first by key and by id", async () => {
    const support = await createFeature({
      key: "support",
      name: "Support",
      type: "STATIC",
      levels: [
        { level: 3, name: "Phone", value: "phone" },
        { level: 1, name: "Email", value: "email" },
        { level: 2, name: "Chat", value: "chat" },
      ],
    });
    ids.support = support.id;
    const expected = ["email", "chat", "phone"];
    expect(support.levels.map((level: { value: string }) => level.value)).toEqual(expected);

    const byKey = ok(await gql(`{ feature(key: "support") { id type levels { level value } } }`)).feature;
    expect(byKey).toEqual({
      id: support.id,
      type: "STATIC",
      levels: [
        { level: 1, value: "email" },
        { level: 2, value: "chat" },
        { level: 3, value: "phone" },
      ],
    });
    const byId = ok(await gql(`query ($id: ID!) { feature(id: $id) { key levels { value } } }`, { id: support.id })).feature;
    expect(byId).toEqual({ key: "support", levels: expected.map((value) => ({ value })) });
    const stored = await t.database.prisma.feature.findFirstOrThrow({ where: { projectId, key: "support" } });
    expect((stored.levels as { value: string }[]).map((level) => level.value)).toEqual(expected);
  });

  it("accepts a key of 64 characters and a name of 200", async () => {
    const long = await createFeature({ key: `k${"-".repeat(62)}z`, name: "n".repeat(200), type: "BOOLEAN" });
    expect(long.key).toHaveLength(64);
    expect(long.name).toHaveLength(200);
    ids.long = long.id;
  });

  it("filters features by types and status, with totalCount", async () => {
    const all = ok(await gql(`{ features { totalCount edges { node { key } } } }`)).features;
    expect(all.totalCount).toBe(4);
    expect(keysOf(all).sort()).toEqual([`k${"-".repeat(62)}z`, "seats", "sso", "support"].sort());

    const some = ok(await gql(`{ features(types: [METERED, STATIC]) { totalCount edges { node { key type } } } }`)).features;
    expect(some.totalCount).toBe(2);
    expect(keysOf(some).sort()).toEqual(["seats", "support"]);

    const booleans = ok(await gql(`{ features(types: [BOOLEAN], status: ACTIVE) { totalCount edges { node { key } } } }`)).features;
    expect(booleans.totalCount).toBe(2);
    expect(ok(await gql(`{ features(status: ARCHIVED) { totalCount edges { node { key } } } }`)).features).toEqual({
      totalCount: 0,
      edges: [],
    });
  });

  it("pages features with totalCount on every page", async () => {
    const first = ok(await gql(`{ features(first: 3) { totalCount edges { node { key } } pageInfo { hasNextPage endCursor } } }`)).features;
    expect(first.edges).toHaveLength(3);
    expect(first.totalCount).toBe(4);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = ok(
      await gql(
        `query ($after: String) { features(first: 3, after: $after) { totalCount edges { node { key } } pageInfo { hasNextPage } } }`,
        {
          after: first.pageInfo.endCursor,
        },
      ),
    ).features;
    expect(rest.totalCount).toBe(4);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect([...keysOf(first), ...keysOf(rest)].sort()).toEqual(
      keysOf(ok(await gql(`{ features { edges { node { key } } } }`)).features).sort(),
    );
  });

  it("updates only the fields given; explicit null clears the description, a new one sets it; levels are replaced and re-sorted", async () => {
    const before = ok(await gql(`query ($id: ID!) { feature(id: $id) { ${FEATURE_FIELDS} } }`, { id: ids.seats })).feature;
    // updatedAt has millisecond precision: let the clock pass it, or "later" cannot show.
    await waitUntil(() => Date.now() > Date.parse(before.updatedAt));
    const renamed = ok(await gql(UPDATE_FEATURE, { input: { id: ids.seats, name: "Licences", unitSingular: "licence" } })).updateFeature;
    expect(renamed).toMatchObject({
      key: "seats",
      type: "METERED",
      name: "Licences",
      unitSingular: "licence",
      unitPlural: "seats",
      description: "Named users.\nBilled monthly.",
      metadata: before.metadata,
      levels: before.levels,
      createdAt: before.createdAt,
    });
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));

    const relevelled = ok(
      await gql(UPDATE_FEATURE, {
        input: {
          id: ids.seats,
          description: null,
          metadata: { owner: "platform" },
          levels: [
            { level: 50, name: "Business", value: "50" },
            { level: 10, name: "Team", value: "10" },
          ],
        },
      }),
    ).updateFeature;
    expect(relevelled).toMatchObject({ name: "Licences", description: null, metadata: { owner: "platform" } });
    expect(relevelled.levels).toEqual([
      { level: 10, name: "Team", value: "10", isUnlimited: false },
      { level: 50, name: "Business", value: "50", isUnlimited: false },
    ]);
    const described = ok(await gql(UPDATE_FEATURE, { input: { id: ids.seats, description: "Per named user." } })).updateFeature;
    expect(described).toMatchObject({ name: "Licences", description: "Per named user.", metadata: { owner: "platform" } });
    const reread = ok(await gql(`{ feature(key: "seats") { name description levels { level } } }`)).feature;
    expect(reread).toEqual({ name: "Licences", description: "Per named user.", levels: [{ level: 10 }, { level: 50 }] });
  });

  it("archives a feature: it stays readable and moves between the status filters", async () => {
    const archived = ok(await gql(`mutation ($id: ID!) { archiveFeature(id: $id) { key status } }`, { id: ids.long })).archiveFeature;
    expect(archived.status).toBe("ARCHIVED");
    expect(ok(await gql(`query ($id: ID!) { feature(id: $id) { status } }`, { id: ids.long })).feature.status).toBe("ARCHIVED");
    const archivedList = ok(await gql(`{ features(status: ARCHIVED) { totalCount edges { node { key } } } }`)).features;
    expect(archivedList).toEqual({ totalCount: 1, edges: [{ node: { key: archived.key } }] });
    const active = ok(await gql(`{ features(status: ACTIVE) { totalCount edges { node { key } } } }`)).features;
    expect(active.totalCount).toBe(3);
    expect(keysOf(active)).not.toContain(archived.key);
    const activeBooleans = ok(await gql(`{ features(types: [BOOLEAN], status: ACTIVE) { totalCount edges { node { key } } } }`)).features;
    expect(activeBooleans).toEqual({ totalCount: 1, edges: [{ node: { key: "sso" } }] });
  });

  it("refuses a duplicate key with ALREADY_EXISTS naming input.key, and writes nothing", async () => {
    const result = await refusedWithoutWriting(CREATE_FEATURE, { input: { key: "sso", name: "SSO again", type: "METERED" } });
    expect(firstError(result)).toEqual({ code: "ALREADY_EXISTS", field: "input.key" });
    expect(result.errors).toHaveLength(1);
  });

  it.each([
    ["a key with a space", { key: "has space" }, "input.key"],
    ["an empty key", { key: "" }, "input.key"],
    ["a key starting with a dash", { key: "-seats" }, "input.key"],
    ["a key with a slash", { key: "a/b" }, "input.key"],
    ["a key of 65 characters", { key: "k".repeat(65) }, "input.key"],
    ["an empty name", { name: "" }, "input.name"],
    ["a blank name", { name: "   " }, "input.name"],
    ["a name of 201 characters", { name: "x".repeat(201) }, "input.name"],
    ["a name with a NUL", { name: "bad\u0000name" }, "input.name"],
    ["a name with a newline", { name: "two\nlines" }, "input.name"],
    ["a name with DEL", { name: "bell\u007f" }, "input.name"],
    ["a description with a NUL", { description: "x\u0000y" }, "input.description"],
    ["a description of 2001 characters", { description: "d".repeat(2001) }, "input.description"],
    ["a unit with a control character", { unitPlural: "seat\u0007s" }, "input.unitPlural"],
    ["metadata that is not an object", { metadata: ["a", "b"] }, undefined],
  ])("refuses %s with VALIDATION_ERROR naming the field, and writes nothing", async (_label, override, field) => {
    const input = { key: "fresh-key", name: "Fresh", type: "BOOLEAN", ...override };
    const result = await refusedWithoutWriting(CREATE_FEATURE, { input });
    expect(errorCodes(result)).toEqual(["VALIDATION_ERROR"]);
    if (field) expect(result.errors?.[0]?.extensions?.field).toBe(field);
  });

  it.each([
    [
      "two levels with the same level",
      [
        { level: 1, name: "A", value: "a" },
        { level: 1, name: "B", value: "b" },
      ],
      "input.levels.1.level",
    ],
    [
      "two levels with the same value",
      [
        { level: 1, name: "A", value: "a" },
        { level: 2, name: "B", value: "a" },
      ],
      "input.levels.1.value",
    ],
    ["a negative level", [{ level: -1, name: "A", value: "a" }], "input.levels.0.level"],
    ["a level with an empty value", [{ level: 1, name: "A", value: "" }], "input.levels.0.value"],
    ["a level with a control character in its name", [{ level: 1, name: "A\u0001", value: "a" }], "input.levels.0.name"],
  ])("refuses %s, naming the level's field", async (_label, levels, field) => {
    const result = await refusedWithoutWriting(CREATE_FEATURE, { input: { key: "levelled", name: "Levelled", type: "STATIC", levels } });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field });
  });

  it("refuses bad updates and writes nothing", async () => {
    const badName = await refusedWithoutWriting(UPDATE_FEATURE, { input: { id: ids.sso, name: "\u0000" } });
    expect(firstError(badName)).toEqual({ code: "VALIDATION_ERROR", field: "input.name" });
    const badLevels = await refusedWithoutWriting(UPDATE_FEATURE, {
      input: {
        id: ids.support,
        name: "Renamed",
        levels: [
          { level: 1, name: "A", value: "a" },
          { level: 1, name: "B", value: "b" },
        ],
      },
    });
    expect(firstError(badLevels)).toEqual({ code: "VALIDATION_ERROR", field: "input.levels.1.level" });
    expect(ok(await gql(`{ feature(key: "support") { name } }`)).feature.name).toBe("Support");
    const unknown = await refusedWithoutWriting(UPDATE_FEATURE, { input: { id: globalIdOf("Feature", randomUUID()), name: "Ghost" } });
    expect(firstError(unknown)).toEqual({ code: "NOT_FOUND", field: "input.id" });
  });

  it("refuses a Plan ID where a Feature ID is expected, naming the field", async () => {
    const plan = await s.plan({ key: "not-a-feature", name: "Not a feature" });
    const update = await refusedWithoutWriting(UPDATE_FEATURE, { input: { id: plan.id, name: "Sneaky" } });
    expect(firstError(update)).toEqual({ code: "VALIDATION_ERROR", field: "input.id" });
    expect(update.errors?.[0]?.message).toMatch(/Feature ID/);
    const archive = await refusedWithoutWriting(`mutation ($id: ID!) { archiveFeature(id: $id) { id } }`, { id: plan.id });
    expect(firstError(archive)).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    const lookup = await gql(`query ($id: ID!) { feature(id: $id) { key } }`, { id: plan.id });
    expect(firstError(lookup)).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    expect(ok(await gql(`query ($id: ID!) { plan(id: $id) { status } }`, { id: plan.id })).plan.status).toBe("ACTIVE");
  });

  it("looks a feature up by exactly one of id or key, and answers NOT_FOUND for an unknown one", async () => {
    for (const query of [`{ feature { id } }`, `query ($id: ID!) { feature(key: "sso", id: $id) { id } }`]) {
      expect(firstError(await gql(query, { id: ids.sso }))).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    }
    expect(firstError(await gql(`{ feature(key: "no-such-feature") { id } }`))).toEqual({ code: "NOT_FOUND", field: "key" });
    const unknownId = globalIdOf("Feature", randomUUID());
    expect(firstError(await gql(`query ($id: ID!) { feature(id: $id) { id } }`, { id: unknownId }))).toEqual({
      code: "NOT_FOUND",
      field: "id",
    });
  });
});

describe("plans and add-ons", () => {
  const ids: Record<string, string> = {};

  it("creates a PLAN by default and an ADDON when asked", async () => {
    const starter = await createPlan({ key: "starter", name: "Starter", description: "For one", metadata: { price: 0 } });
    expect(starter).toMatchObject({
      key: "starter",
      name: "Starter",
      description: "For one",
      kind: "PLAN",
      status: "ACTIVE",
      metadata: { price: 0 },
    });
    const growth = await createPlan({ key: "growth", name: "Growth", kind: "PLAN" });
    expect(growth).toMatchObject({ kind: "PLAN", description: null, metadata: null });
    const extra = await createPlan({ key: "extra-seats", name: "Extra seats", kind: "ADDON" });
    expect(extra).toMatchObject({ key: "extra-seats", kind: "ADDON", status: "ACTIVE" });
    // A plan may share its key with a feature: they are different things.
    const sameKeyAsFeature = await createPlan({ key: "sso", name: "SSO bundle", kind: "ADDON" });
    expect(sameKeyAsFeature.kind).toBe("ADDON");
    Object.assign(ids, { starter: starter.id, growth: growth.id, extra: extra.id, ssoAddon: sameKeyAsFeature.id });

    const byKey = ok(await gql(`{ plan(key: "extra-seats") { ${PLAN_FIELDS} } }`)).plan;
    expect(byKey).toEqual(extra);
    expect(ok(await gql(`query ($id: ID!) { plan(id: $id) { key kind } }`, { id: starter.id })).plan).toEqual({
      key: "starter",
      kind: "PLAN",
    });
  });

  it("filters plans by kind and status, with totalCount", async () => {
    // The features describe created "not-a-feature" (a PLAN) in this project too.
    const plans = ok(await gql(`{ plans(kind: PLAN) { totalCount edges { node { key kind } } } }`)).plans;
    expect(plans.totalCount).toBe(3);
    expect(keysOf(plans).sort()).toEqual(["growth", "not-a-feature", "starter"]);
    const addons = ok(await gql(`{ plans(kind: ADDON) { totalCount edges { node { key } } } }`)).plans;
    expect(addons.totalCount).toBe(2);
    expect(keysOf(addons).sort()).toEqual(["extra-seats", "sso"]);
    expect(ok(await gql(`{ plans { totalCount } }`)).plans.totalCount).toBe(5);
  });

  it("updates a plan's name, description and metadata, leaving the rest", async () => {
    const updated = ok(await gql(UPDATE_PLAN, { input: { id: ids.starter, name: "Starter 2026", metadata: { price: 9 } } })).updatePlan;
    expect(updated).toMatchObject({ key: "starter", kind: "PLAN", name: "Starter 2026", description: "For one", metadata: { price: 9 } });
    const cleared = ok(await gql(UPDATE_PLAN, { input: { id: ids.starter, description: null } })).updatePlan;
    expect(cleared).toMatchObject({ name: "Starter 2026", description: null, metadata: { price: 9 } });
    const addon = ok(await gql(UPDATE_PLAN, { input: { id: ids.extra, name: "More seats" } })).updatePlan;
    expect(addon).toMatchObject({ kind: "ADDON", name: "More seats" });
  });

  it("archives plans and add-ons; status and kind filters combine", async () => {
    expect(ok(await gql(`mutation ($id: ID!) { archivePlan(id: $id) { key kind status } }`, { id: ids.growth })).archivePlan).toEqual({
      key: "growth",
      kind: "PLAN",
      status: "ARCHIVED",
    });
    expect(ok(await gql(`mutation ($id: ID!) { archivePlan(id: $id) { status } }`, { id: ids.ssoAddon })).archivePlan.status).toBe(
      "ARCHIVED",
    );
    const archivedAddons = ok(await gql(`{ plans(kind: ADDON, status: ARCHIVED) { totalCount edges { node { key } } } }`)).plans;
    expect(archivedAddons).toEqual({ totalCount: 1, edges: [{ node: { key: "sso" } }] });
    const activePlans = ok(await gql(`{ plans(kind: PLAN, status: ACTIVE) { totalCount edges { node { key } } } }`)).plans;
    expect(activePlans.totalCount).toBe(2);
    expect(keysOf(activePlans).sort()).toEqual(["not-a-feature", "starter"]);
    expect(ok(await gql(`{ plan(key: "growth") { status } }`)).plan.status).toBe("ARCHIVED");
  });

  it("refuses a duplicate plan key with ALREADY_EXISTS naming input.key, even across kinds", async () => {
    const result = await refusedWithoutWriting(CREATE_PLAN, { input: { key: "starter", name: "Another", kind: "ADDON" } });
    expect(firstError(result)).toEqual({ code: "ALREADY_EXISTS", field: "input.key" });
  });

  it.each([
    ["a bad key", { key: "bad key!" }, "input.key"],
    ["an empty name", { name: "" }, "input.name"],
    ["a name of 201 characters", { name: "p".repeat(201) }, "input.name"],
    ["a name with a control character", { name: "Pro\u001b[31m" }, "input.name"],
    ["a description of 2001 characters", { description: "d".repeat(2001) }, "input.description"],
  ])("refuses a plan with %s, naming the field", async (_label, override, field) => {
    const result = await refusedWithoutWriting(CREATE_PLAN, { input: { key: "new-plan", name: "New", ...override } });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field });
  });

  it("refuses bad plan updates: wrong ID type, unknown plan, bad name", async () => {
    const feature = ok(await gql(`{ feature(key: "sso") { id } }`)).feature;
    expect(firstError(await refusedWithoutWriting(UPDATE_PLAN, { input: { id: feature.id, name: "X" } }))).toEqual({
      code: "VALIDATION_ERROR",
      field: "input.id",
    });
    expect(firstError(await refusedWithoutWriting(UPDATE_PLAN, { input: { id: globalIdOf("Plan", randomUUID()), name: "X" } }))).toEqual({
      code: "NOT_FOUND",
      field: "input.id",
    });
    expect(firstError(await refusedWithoutWriting(UPDATE_PLAN, { input: { id: ids.starter, name: " " } }))).toEqual({
      code: "VALIDATION_ERROR",
      field: "input.name",
    });
    expect(firstError(await refusedWithoutWriting(`mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: feature.id }))).toEqual({
      code: "VALIDATION_ERROR",
      field: "id",
    });
  });

  it("looks a plan up by exactly one of id or key, and answers NOT_FOUND for an unknown one", async () => {
    for (const query of [`{ plan { id } }`, `query ($id: ID!) { plan(key: "starter", id: $id) { id } }`]) {
      expect(firstError(await gql(query, { id: ids.starter }))).toEqual({ code: "VALIDATION_ERROR", field: "id" });
    }
    expect(firstError(await gql(`{ plan(key: "no-such-plan") { id } }`))).toEqual({ code: "NOT_FOUND", field: "key" });
    expect(firstError(await gql(`query ($id: ID!) { plan(id: $id) { id } }`, { id: globalIdOf("Plan", randomUUID()) }))).toEqual({
      code: "NOT_FOUND",
      field: "id",
    });
  });

  it("an archived plan takes no new subscriptions; those made before keep it", async () => {
    const legacy = await s.plan({ key: "legacy-plan" });
    await s.customer("early");
    const subscription = await s.subscription("early", { planId: legacy.id });
    ok(await gql(`mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: legacy.id }));
    const refused = await gql(
      `mutation ($p: ID!) { createSubscription(input: { customer: { externalId: "early" }, planId: $p }) { id } }`,
      { p: legacy.id },
    );
    expect(firstError(refused)).toEqual({ code: "INVALID_OPERATION", field: "input.planId" });
    expect(await t.database.prisma.customerSubscription.count({ where: { projectId, customer: { externalId: "early" } } })).toBe(1);
    const still = ok(
      await gql(`query ($id: ID!) { node(id: $id) { ... on CustomerSubscription { plan { key status } } } }`, { id: subscription.id }),
    );
    expect(still.node.plan).toEqual({ key: "legacy-plan", status: "ARCHIVED" });
  });
});

describe("plan entitlements", () => {
  let proId: string;
  let boostId: string;

  beforeAll(async () => {
    await s.feature({ key: "api-calls", name: "API calls", type: "METERED", unitPlural: "calls" });
    await s.feature({ key: "audit-log", name: "Audit log", type: "BOOLEAN" });
    await s.feature({
      key: "sla",
      name: "SLA",
      type: "STATIC",
      levels: [
        { level: 2, name: "Gold", value: "gold" },
        { level: 1, name: "Silver", value: "silver" },
      ],
    });
    await s.feature({ key: "region", name: "Region", type: "STATIC" });
    for (const key of ["zz-webhooks", "legacy-export", "old-reports"]) await s.feature({ key, type: "BOOLEAN" });
    proId = (await s.plan({ key: "pro", name: "Pro" })).id;
    boostId = (await s.plan({ key: "boost", name: "Boost", kind: "ADDON" })).id;
  });

  it("sets a METERED entitlement with the documented defaults", async () => {
    const set = await setEntitlement({ planId: proId, featureKey: "api-calls", usageLimit: 1000 });
    expect(set).toEqual({
      id: expect.any(String),
      plan: { key: "pro" },
      feature: { key: "api-calls" },
      isEnabled: true,
      usageLimit: 1000,
      isUnlimited: false,
      resetPeriod: "MONTHLY",
      isSoftLimit: false,
      staticValue: null,
    });
    const node = ok(
      await gql(`query ($id: ID!) { node(id: $id) { ... on PlanEntitlement { usageLimit plan { key } } } }`, { id: set.id }),
    ).node;
    expect(node).toEqual({ usageLimit: 1000, plan: { key: "pro" } });
  });

  it("replaces an entitlement in place: same id, fields not given return to their defaults", async () => {
    const first = await setEntitlement({ planId: proId, featureKey: "api-calls", usageLimit: 50, resetPeriod: "DAILY", isSoftLimit: true });
    expect(first).toMatchObject({ usageLimit: 50, resetPeriod: "DAILY", isSoftLimit: true, isUnlimited: false });
    const unlimited = await setEntitlement({ planId: proId, featureKey: "api-calls", isUnlimited: true });
    expect(unlimited).toMatchObject({ id: first.id, usageLimit: null, isUnlimited: true, resetPeriod: "MONTHLY", isSoftLimit: false });
    const zero = await setEntitlement({ planId: proId, featureKey: "api-calls", usageLimit: 0, resetPeriod: "NEVER" });
    expect(zero).toMatchObject({ id: first.id, usageLimit: 0, isUnlimited: false, resetPeriod: "NEVER" });
    const rows = await t.database.prisma.planEntitlement.findMany({
      where: { plan: { projectId, key: "pro" }, feature: { key: "api-calls" } },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ usageLimit: 0, isUnlimited: false, resetPeriod: "NEVER", isSoftLimit: false, removedAt: null });
  });

  it("sets BOOLEAN and STATIC entitlements, with no metered fields", async () => {
    expect(await setEntitlement({ planId: proId, featureKey: "audit-log" })).toMatchObject({
      isEnabled: true,
      usageLimit: null,
      isUnlimited: false,
      resetPeriod: null,
      isSoftLimit: false,
      staticValue: null,
    });
    expect(await setEntitlement({ planId: boostId, featureKey: "audit-log", isEnabled: false })).toMatchObject({
      plan: { key: "boost" },
      isEnabled: false,
    });
    expect(await setEntitlement({ planId: proId, featureKey: "sla", staticValue: "gold" })).toMatchObject({
      staticValue: "gold",
      usageLimit: null,
      resetPeriod: null,
    });
    // A STATIC feature without levels takes any line of text, trimmed like every other.
    expect((await setEntitlement({ planId: proId, featureKey: "region", staticValue: "  eu-west " })).staticValue).toBe("eu-west");
    // With levels, the value is matched after trimming too.
    expect((await setEntitlement({ planId: proId, featureKey: "sla", staticValue: " silver" })).staticValue).toBe("silver");
    // A disabled STATIC entitlement needs no value.
    expect(await setEntitlement({ planId: boostId, featureKey: "sla", isEnabled: false })).toMatchObject({
      isEnabled: false,
      staticValue: null,
    });
  });

  it("refuses a static value with control characters or over 500 characters, naming input.staticValue", async () => {
    for (const staticValue of ["eu\u0000west", "line\nbreak", "x".repeat(501)]) {
      const refused = await refusedWithoutWriting(SET, { input: { planId: proId, featureKey: "region", staticValue } });
      expect(firstError(refused)).toEqual({ code: "VALIDATION_ERROR", field: "input.staticValue" });
    }
  });

  it("lists a plan's entitlements ordered by feature key", async () => {
    await setEntitlement({ planId: proId, featureKey: "zz-webhooks" });
    const plan = ok(await gql(PLAN_ENTITLEMENTS, { id: proId })).plan;
    expect(plan.entitlements.map((entitlement: { feature: { key: string } }) => entitlement.feature.key)).toEqual([
      "api-calls",
      "audit-log",
      "region",
      "sla",
      "zz-webhooks",
    ]);
    expect(plan.entitlements[0]).toEqual({
      feature: { key: "api-calls" },
      isEnabled: true,
      usageLimit: 0,
      isUnlimited: false,
      resetPeriod: "NEVER",
      isSoftLimit: false,
      staticValue: null,
    });
    expect(plan.entitlements[3]).toMatchObject({ feature: { key: "sla" }, staticValue: "silver" });
  });

  it("Feature.plans lists the plans and add-ons that include the feature, with totalCount, paged", async () => {
    await setEntitlement({ planId: boostId, featureKey: "api-calls", usageLimit: 500, isSoftLimit: true });
    const plans = ok(await gql(FEATURE_PLANS, { key: "api-calls" })).feature.plans;
    expect(plans.totalCount).toBe(2);
    expect(
      plans.edges
        .map((edge: { node: { key: string; kind: string } }) => edge.node)
        .sort((a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key)),
    ).toEqual([
      { key: "boost", kind: "ADDON" },
      { key: "pro", kind: "PLAN" },
    ]);
    const page1 = ok(await gql(FEATURE_PLANS, { key: "api-calls", first: 1 })).feature.plans;
    expect(page1).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
    expect(page1.edges).toHaveLength(1);
    const page2 = ok(await gql(FEATURE_PLANS, { key: "api-calls", first: 1, after: page1.pageInfo.endCursor })).feature.plans;
    expect(page2).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: false } });
    expect([page1.edges[0].node.key, page2.edges[0].node.key].sort()).toEqual(["boost", "pro"]);
    expect(ok(await gql(FEATURE_PLANS, { key: "old-reports" })).feature.plans).toMatchObject({ totalCount: 0, edges: [] });
  });

  it("removes an entitlement: gone from Plan.entitlements, Feature.plans and node; removing again is NOT_FOUND", async () => {
    const entitlementId = (await setEntitlement({ planId: proId, featureKey: "region", staticValue: "us-east" })).id;
    const removed = ok(await gql(REMOVE, { planId: proId, featureKey: "region" })).removePlanEntitlement;
    expect(removed.key).toBe("pro");
    expect(removed.entitlements.map((entitlement: { feature: { key: string } }) => entitlement.feature.key)).toEqual([
      "api-calls",
      "audit-log",
      "sla",
      "zz-webhooks",
    ]);
    const reread = ok(await gql(PLAN_ENTITLEMENTS, { id: proId })).plan;
    expect(reread.entitlements.map((entitlement: { feature: { key: string } }) => entitlement.feature.key)).not.toContain("region");
    expect(ok(await gql(FEATURE_PLANS, { key: "region" })).feature.plans).toMatchObject({ totalCount: 0, edges: [] });
    expect(errorCodes(await gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: entitlementId }))).toEqual(["NOT_FOUND"]);

    const again = await refusedWithoutWriting(REMOVE, { planId: proId, featureKey: "region" });
    expect(firstError(again)).toEqual({ code: "NOT_FOUND", field: "featureKey" });

    // Setting it again brings it back, with the new value.
    const revived = await setEntitlement({ planId: proId, featureKey: "region", staticValue: "ap-south" });
    expect(revived.staticValue).toBe("ap-south");
    expect(ok(await gql(FEATURE_PLANS, { key: "region" })).feature.plans.totalCount).toBe(1);
  });

  it("removing refuses a feature the plan never had, an unknown feature and a wrong ID type", async () => {
    expect(firstError(await refusedWithoutWriting(REMOVE, { planId: proId, featureKey: "old-reports" }))).toEqual({
      code: "NOT_FOUND",
      field: "featureKey",
    });
    expect(firstError(await refusedWithoutWriting(REMOVE, { planId: proId, featureKey: "no-such-feature" }))).toEqual({
      code: "NOT_FOUND",
      field: "featureKey",
    });
    const featureId = ok(await gql(`{ feature(key: "api-calls") { id } }`)).feature.id;
    expect(firstError(await refusedWithoutWriting(REMOVE, { planId: featureId, featureKey: "api-calls" }))).toEqual({
      code: "VALIDATION_ERROR",
      field: "planId",
    });
  });

  it.each([
    ["METERED with neither usageLimit nor isUnlimited", { featureKey: "api-calls" }, "input.usageLimit"],
    ["METERED with isUnlimited: false and no limit", { featureKey: "api-calls", isUnlimited: false }, "input.usageLimit"],
    ["METERED with only a resetPeriod", { featureKey: "api-calls", resetPeriod: "DAILY", isSoftLimit: true }, "input.usageLimit"],
    ["METERED with both a limit and isUnlimited", { featureKey: "api-calls", usageLimit: 10, isUnlimited: true }, "input.usageLimit"],
    ["METERED with a negative limit", { featureKey: "api-calls", usageLimit: -1 }, "input.usageLimit"],
    ["METERED with a staticValue", { featureKey: "api-calls", usageLimit: 10, staticValue: "gold" }, "input.staticValue"],
    ["STATIC without a staticValue", { featureKey: "sla" }, "input.staticValue"],
    ["STATIC with a value not among its levels", { featureKey: "sla", staticValue: "platinum" }, "input.staticValue"],
    ["STATIC with a level's name instead of its value", { featureKey: "sla", staticValue: "Gold" }, "input.staticValue"],
    ["STATIC with an empty staticValue", { featureKey: "region", staticValue: "" }, "input.staticValue"],
    ["STATIC with a blank staticValue", { featureKey: "region", staticValue: "   " }, "input.staticValue"],
    ["STATIC with a control character in staticValue", { featureKey: "region", staticValue: "eu\u0000west" }, "input.staticValue"],
    ["STATIC with a staticValue of 501 characters", { featureKey: "region", staticValue: "r".repeat(501) }, "input.staticValue"],
    ["STATIC with a usageLimit", { featureKey: "sla", staticValue: "gold", usageLimit: 3 }, "input.usageLimit"],
    ["STATIC with isSoftLimit", { featureKey: "sla", staticValue: "gold", isSoftLimit: true }, "input.isSoftLimit"],
    ["STATIC with a resetPeriod", { featureKey: "sla", staticValue: "gold", resetPeriod: "MONTHLY" }, "input.resetPeriod"],
    ["BOOLEAN with a usageLimit", { featureKey: "audit-log", usageLimit: 1 }, "input.usageLimit"],
    ["BOOLEAN with isUnlimited", { featureKey: "audit-log", isUnlimited: true }, "input.isUnlimited"],
    ["BOOLEAN with a staticValue", { featureKey: "audit-log", staticValue: "on" }, "input.staticValue"],
    ["BOOLEAN with a resetPeriod", { featureKey: "audit-log", resetPeriod: "DAILY" }, "input.resetPeriod"],
    ["a bad feature key", { featureKey: "bad key", usageLimit: 1 }, "input.featureKey"],
  ])("refuses %s with VALIDATION_ERROR naming the field, and writes nothing", async (_label, input, field) => {
    const result = await refusedWithoutWriting(SET, { input: { planId: proId, ...input } });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field });
  });

  it("a refused replacement leaves the existing entitlement as it was", async () => {
    const before = ok(await gql(PLAN_ENTITLEMENTS, { id: boostId })).plan.entitlements;
    const result = await refusedWithoutWriting(SET, { input: { planId: boostId, featureKey: "api-calls", isSoftLimit: false } });
    expect(firstError(result)).toEqual({ code: "VALIDATION_ERROR", field: "input.usageLimit" });
    expect(ok(await gql(PLAN_ENTITLEMENTS, { id: boostId })).plan.entitlements).toEqual(before);
    expect(before.find((entitlement: { feature: { key: string } }) => entitlement.feature.key === "api-calls")).toMatchObject({
      usageLimit: 500,
      isSoftLimit: true,
    });
  });

  it("refuses an unknown feature key (NOT_FOUND), an unknown plan (NOT_FOUND) and a Feature ID as planId", async () => {
    expect(
      firstError(await refusedWithoutWriting(SET, { input: { planId: proId, featureKey: "no-such-feature", usageLimit: 1 } })),
    ).toEqual({
      code: "NOT_FOUND",
      field: "input.featureKey",
    });
    expect(
      firstError(
        await refusedWithoutWriting(SET, { input: { planId: globalIdOf("Plan", randomUUID()), featureKey: "api-calls", usageLimit: 1 } }),
      ),
    ).toEqual({ code: "NOT_FOUND", field: "input.planId" });
    const featureId = ok(await gql(`{ feature(key: "api-calls") { id } }`)).feature.id;
    const wrongType = await refusedWithoutWriting(SET, { input: { planId: featureId, featureKey: "api-calls", usageLimit: 1 } });
    expect(firstError(wrongType)).toEqual({ code: "VALIDATION_ERROR", field: "input.planId" });
    const garbage = await refusedWithoutWriting(SET, { input: { planId: "not-an-id", featureKey: "api-calls", usageLimit: 1 } });
    expect(firstError(garbage)).toEqual({ code: "VALIDATION_ERROR", field: "input.planId" });
  });

  it("an archived feature cannot be added to a plan anew; where it already is, it keeps working", async () => {
    await setEntitlement({ planId: proId, featureKey: "legacy-export" });
    const legacy = ok(await gql(`{ feature(key: "legacy-export") { id } }`)).feature;
    const oldReports = ok(await gql(`{ feature(key: "old-reports") { id } }`)).feature;
    for (const id of [legacy.id, oldReports.id]) ok(await gql(`mutation ($id: ID!) { archiveFeature(id: $id) { id } }`, { id }));

    const anew = await refusedWithoutWriting(SET, { input: { planId: proId, featureKey: "old-reports" } });
    expect(firstError(anew)).toEqual({ code: "INVALID_OPERATION", field: "input.featureKey" });

    // Where it already is: still listed, and its value may still be edited.
    const keys = ok(await gql(PLAN_ENTITLEMENTS, { id: proId })).plan.entitlements.map((e: { feature: { key: string } }) => e.feature.key);
    expect(keys).toContain("legacy-export");
    expect(await setEntitlement({ planId: proId, featureKey: "legacy-export", isEnabled: false })).toMatchObject({ isEnabled: false });
    expect(ok(await gql(FEATURE_PLANS, { key: "legacy-export" })).feature.plans.totalCount).toBe(1);

    // Once removed, putting it back is adding it anew.
    ok(await gql(REMOVE, { planId: proId, featureKey: "legacy-export" }));
    const back = await refusedWithoutWriting(SET, { input: { planId: proId, featureKey: "legacy-export" } });
    expect(firstError(back)).toEqual({ code: "INVALID_OPERATION", field: "input.featureKey" });
    expect(ok(await gql(FEATURE_PLANS, { key: "legacy-export" })).feature.plans.totalCount).toBe(0);
  });

  it("an archived plan still lists its entitlements and still appears in Feature.plans", async () => {
    ok(await gql(`mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: boostId }));
    const plans = ok(await gql(FEATURE_PLANS, { key: "api-calls" })).feature.plans;
    expect(plans.totalCount).toBe(2);
    const boost = ok(await gql(PLAN_ENTITLEMENTS, { id: boostId })).plan;
    expect(boost.entitlements.map((e: { feature: { key: string } }) => e.feature.key)).toEqual(["api-calls", "audit-log", "sla"]);
  });
});
