// Grants: values given straight to a customer over [effectiveAt, expiresAt), voidable.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, firstError, ok, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "api-calls", name: "API calls", type: "METERED" });
  await s.feature({ key: "sso", name: "SSO", type: "BOOLEAN" });
  await s.feature({ key: "tier", name: "Tier", type: "STATIC" });
  const legacy = await s.feature({ key: "legacy", name: "Legacy", type: "BOOLEAN" });
  ok(await t.gql(`mutation ($id: ID!) { archiveFeature(id: $id) { id } }`, { id: legacy.id }));
  await s.customer("acme");
});
afterAll(() => t.close());
const CREATE = `mutation ($input: CreateGrantInput!) {
  createGrant(input: $input) { id feature { key } customer { externalId } isEnabled usageLimit isUnlimited resetPeriod isSoftLimit staticValue priority effectiveAt expiresAt voidedAt reason metadata }
}`;
const grant = async (input: Record<string, unknown>) =>
  ok(await t.gql(CREATE, { input: { customer: { externalId: "acme" }, ...input } })).createGrant;
const ACTIVE = `query ($at: DateTime) { customer(externalId: "acme") { grants(activeAt: $at, first: 50) { totalCount edges { node { reason } } } } }`;
const activeAt = async (at: string) => {
  const grants = ok(await t.gql(ACTIVE, { at })).customer.grants;
  expect(grants.totalCount).toBe(grants.edges.length);
  return grants.edges.map((edge: { node: { reason: string } }) => edge.node.reason).sort();
};

describe("grants", () => {
  it("grants each feature type, defaulting effectiveAt to now and priority to 0", async () => {
    const before = Date.now();
    const metered = await grant({
      featureKey: "api-calls",
      usageLimit: 1000,
      isSoftLimit: true,
      reason: "promo",
      metadata: { campaign: "spring" },
    });
    expect(metered).toMatchObject({
      feature: { key: "api-calls" },
      customer: { externalId: "acme" },
      isEnabled: true,
      usageLimit: 1000,
      isUnlimited: false,
      resetPeriod: "MONTHLY",
      isSoftLimit: true,
      priority: 0,
      expiresAt: null,
      voidedAt: null,
      metadata: { campaign: "spring" },
    });
    expect(Date.parse(metered.effectiveAt)).toBeGreaterThanOrEqual(before - 5);
    expect(await grant({ featureKey: "sso", priority: 10, reason: "trial" })).toMatchObject({
      isEnabled: true,
      usageLimit: null,
      staticValue: null,
      priority: 10,
    });
    expect(await grant({ featureKey: "tier", staticValue: "gold", reason: "vip" })).toMatchObject({ staticValue: "gold" });
    expect(await grant({ featureKey: "api-calls", isUnlimited: true, reason: "unlimited" })).toMatchObject({
      usageLimit: null,
      isUnlimited: true,
    });
  });

  it.each([
    [{ featureKey: "api-calls" }, "VALIDATION_ERROR", "input.usageLimit"],
    [{ featureKey: "tier" }, "VALIDATION_ERROR", "input.staticValue"],
    [{ featureKey: "sso", effectiveAt: "2026-05-01T00:00:00Z", expiresAt: "2026-05-01T00:00:00Z" }, "VALIDATION_ERROR", "input.expiresAt"],
    [{ featureKey: "sso", reason: "x".repeat(501) }, "VALIDATION_ERROR", "input.reason"],
    [{ featureKey: "missing" }, "NOT_FOUND", "input.featureKey"],
    [{ featureKey: "legacy" }, "INVALID_OPERATION", "input.featureKey"],
    [{ featureKey: "sso", customer: { externalId: "nobody" } }, "NOT_FOUND", "input.customer.externalId"],
  ])("refuses %# and writes nothing", async (input, code, field) => {
    const count = () => t.database.prisma.grant.count({ where: { projectId: t.projectId } });
    const before = await count();
    const result = await t.gql(CREATE, { input: { customer: { externalId: "acme" }, ...input } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code, field });
    expect(await count()).toBe(before);
  });

  it("is active over half-open windows, and voiding ends it at `at`", async () => {
    const windowed = await grant({
      featureKey: "sso",
      reason: "window",
      effectiveAt: "2030-01-01T00:00:00Z",
      expiresAt: "2030-02-01T00:00:00Z",
    });
    const voided = await grant({ featureKey: "sso", reason: "voided", effectiveAt: "2030-01-01T00:00:00Z" });
    const result = ok(
      await t.gql(`mutation ($id: ID!) { voidGrant(id: $id, at: "2030-01-10T00:00:00+01:00") { voidedAt } }`, { id: voided.id }),
    );
    expect(result.voidGrant.voidedAt).toBe("2030-01-09T23:00:00.000Z");
    const always = ["promo", "trial", "unlimited", "vip"];
    expect(await activeAt("2029-12-31T23:59:59.999Z")).toEqual(always);
    expect(await activeAt("2030-01-01T00:00:00Z")).toEqual([...always, "voided", "window"].sort());
    expect(await activeAt("2030-01-09T23:00:00Z")).toEqual([...always, "window"].sort());
    expect(await activeAt("2030-02-01T00:00:00Z")).toEqual(always);
    expect(ok(await t.gql(`{ customer(externalId: "acme") { grants { totalCount } } }`)).customer.grants.totalCount).toBe(6);
    expect(windowed.expiresAt).toBe("2030-02-01T00:00:00.000Z");
  });

  it("refuses to void a grant twice", async () => {
    const g = await grant({ featureKey: "sso", reason: "once" });
    ok(await t.gql(`mutation ($id: ID!) { voidGrant(id: $id) { voidedAt } }`, { id: g.id }));
    expect(errorCodes(await t.gql(`mutation ($id: ID!) { voidGrant(id: $id) { voidedAt } }`, { id: g.id }))).toEqual(["INVALID_OPERATION"]);
  });

  it("moves a set voidedAt only earlier, never later (which would bring the grant back), as removeSubscriptionAddon does", async () => {
    const g = await grant({ featureKey: "sso", reason: "moved", effectiveAt: "2030-01-01T00:00:00Z" });
    const VOID = `mutation ($id: ID!, $at: DateTime) { voidGrant(id: $id, at: $at) { voidedAt } }`;
    ok(await t.gql(VOID, { id: g.id, at: "2099-02-01T00:00:00Z" }));
    for (const at of ["2099-02-01T00:00:00Z", "2099-03-01T00:00:00Z"]) {
      expect(firstError(await t.gql(VOID, { id: g.id, at }))).toEqual({ code: "INVALID_OPERATION", field: "at" });
    }
    expect(ok(await t.gql(VOID, { id: g.id, at: "2099-01-15T00:00:00Z" })).voidGrant.voidedAt).toBe("2099-01-15T00:00:00.000Z");
    expect(firstError(await t.gql(VOID, { id: g.id, at: "2099-01-20T00:00:00Z" }))).toEqual({ code: "INVALID_OPERATION", field: "at" });
  });

  it("refuses a malformed instant", async () => {
    expect(errorCodes(await t.gql(ACTIVE, { at: "2030-01-01" }))).toEqual(["VALIDATION_ERROR"]);
    expect(errorCodes(await t.gql(ACTIVE, { at: "2030-13-01T00:00:00Z" }))).toEqual(["VALIDATION_ERROR"]);
  });
});
