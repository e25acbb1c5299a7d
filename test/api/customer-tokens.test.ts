// Customer tokens (docs/rules.md §7): a frontend reads its own customer's entitlements and checks
// them; anything else is PERMISSION_DENIED; an expired or tampered token UNAUTHENTICATED.
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, TEST_CUSTOMER_TOKEN_SECRET, type TestApp } from "../helpers/app.ts";
import { seed } from "../helpers/seed.ts";

let t: TestApp;
let token: string;
const ids: Record<string, string> = {};
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({
    key: "exports",
    name: "Exports",
    type: "METERED",
    description: "Reports exported",
    unitSingular: "export",
    unitPlural: "exports",
    levels: [{ level: 1, name: "Few", value: "5" }],
    metadata: { costCentre: "internal" },
  });
  const team = await s.plan({ key: "team", name: "Team", entitlements: { exports: { usageLimit: 5 } } });
  ids.me = (await s.customer("me", { name: "Me", email: "me@example.com" })).id;
  ids.other = (await s.customer("other")).id;
  for (const customer of ["me", "other"]) await s.subscription(customer, { planId: team.id });
  const created = await t.gql(`mutation { createCustomerToken(customer: { externalId: "me" }, ttlSeconds: 600) { token expiresAt } }`);
  expect(created.errors).toBeUndefined();
  token = created.data.createCustomerToken.token;
  const expiresIn = Date.parse(created.data.createCustomerToken.expiresAt) - Date.now();
  expect(expiresIn).toBeGreaterThan(590_000);
  expect(expiresIn).toBeLessThanOrEqual(600_000);
});
afterAll(() => t.close());

const asToken = (query: string, variables: Record<string, unknown> = {}, key = token) => t.gql(query, variables, { key });

describe("a customer token", () => {
  it("reads its customer's entitlements and checks them, by externalId or id", async () => {
    const read = await asToken(
      `{ customer(externalId: "me") { externalId entitlements { featureKey usageLimit hasAccess usage { remaining } feature { name } } } }`,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data.customer).toEqual({
      externalId: "me",
      entitlements: [{ featureKey: "exports", usageLimit: 5, hasAccess: true, usage: { remaining: 5 }, feature: { name: "Exports" } }],
    });
    const check = await asToken(
      `query ($id: ID!) { checkEntitlement(customer: { id: $id }, featureKey: "exports", quantity: 6) { allowed reason } }`,
      { id: ids.me },
    );
    expect(check.data.checkEntitlement).toEqual({ allowed: false, reason: "LIMIT_EXCEEDED" });
  });

  it("reads what a frontend shows of a feature, not how the backend manages it (docs/rules.md §7)", async () => {
    const shown = await asToken(
      `{ customer(externalId: "me") { entitlements { feature { id key name description type unitSingular unitPlural levels { level name value isUnlimited } } } } }`,
    );
    expect(shown.errors).toBeUndefined();
    expect(shown.data.customer.entitlements[0].feature).toMatchObject({
      key: "exports",
      name: "Exports",
      description: "Reports exported",
      type: "METERED",
      unitSingular: "export",
      unitPlural: "exports",
      levels: [{ level: 1, name: "Few", value: "5", isUnlimited: false }],
    });
    for (const field of ["metadata", "status", "createdAt", "updatedAt"]) {
      const result = await asToken(`{ customer(externalId: "me") { entitlements { feature { key ${field} } } } }`);
      expect({ field, codes: errorCodes(result) }).toEqual({ field, codes: ["PERMISSION_DENIED"] });
    }
  });

  it("is PERMISSION_DENIED for any other customer, known or not", async () => {
    for (const query of [
      `{ customer(externalId: "other") { externalId } }`,
      `{ customer(externalId: "nobody") { externalId } }`,
      `{ checkEntitlement(customer: { externalId: "other" }, featureKey: "exports") { allowed } }`,
      `{ checkEntitlement(customer: { externalId: "nobody" }, featureKey: "exports") { allowed } }`,
    ]) {
      expect({ query, codes: errorCodes(await asToken(query)) }).toEqual({ query, codes: ["PERMISSION_DENIED"] });
    }
  });

  it("is PERMISSION_DENIED for everything else, including what entitlements lead to", async () => {
    const denied = [
      `{ features { totalCount } }`,
      `{ customers { totalCount } }`,
      `{ plan(key: "team") { id } }`,
      `query ($id: ID!) { node(id: $id) { id } }`,
      `{ customer(externalId: "me") { email } }`,
      `{ customer(externalId: "me") { subscriptions { totalCount } } }`,
      `{ customer(externalId: "me") { grants { totalCount } } }`,
      `{ customer(externalId: "me") { entitlements { sources { subscription { status } } } } }`,
      `{ customer(externalId: "me") { entitlements { feature { plans { totalCount } } } } }`,
      `mutation { recordUsage(input: { customer: { externalId: "me" }, featureKey: "exports" }) { id } }`,
      `mutation { recordUsages(records: [{ customer: { externalId: "me" }, featureKey: "exports" }]) { recordedCount } }`,
      `mutation { createCustomerToken(customer: { externalId: "me" }) { token } }`,
    ];
    for (const query of denied) {
      const result = await asToken(query, { id: ids.other });
      expect({ query, codes: [...new Set(errorCodes(result))] }).toEqual({ query, codes: ["PERMISSION_DENIED"] });
    }
    expect(await t.database.prisma.usageRecord.count({ where: { projectId: t.projectId } })).toBe(0);
  });

  it("is UNAUTHENTICATED once expired, tampered with, unsigned, or signed with another secret", async () => {
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const tampered = (changed: Record<string, unknown>) =>
      `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changed })).toString("base64url")}.${signature}`;
    const expired = await new SignJWT({ pid: claims.pid })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_CUSTOMER_TOKEN_SECRET));
    const otherSecret = await new SignJWT({ pid: claims.pid })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another"));
    const refused = {
      anotherCustomer: tampered({ sub: "someone-else" }),
      prolonged: tampered({ exp: claims.exp + 86_400 }),
      expired,
      otherSecret,
      withoutSignature: `${header}.${payload}.`,
      // The classic forgery: a header that says the token needs no signature.
      algNone: `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`,
    };
    for (const [kind, bad] of Object.entries(refused)) {
      const codes = errorCodes(await asToken(`{ customer(externalId: "me") { externalId } }`, {}, bad));
      expect({ kind, codes }).toEqual({ kind, codes: ["UNAUTHENTICATED"] });
    }
  });

  it("is created with WRITE only, for a known customer, with a sane lifetime", async () => {
    const { secret } = (await t.gql(`mutation { createApiKey(input: { name: "reader", scopes: [READ] }) { secret } }`)).data.createApiKey;
    expect(
      errorCodes(await t.gql(`mutation { createCustomerToken(customer: { externalId: "me" }) { token } }`, {}, { key: secret })),
    ).toEqual(["PERMISSION_DENIED"]);
    expect(errorCodes(await t.gql(`mutation { createCustomerToken(customer: { externalId: "nobody" }) { token } }`))).toEqual([
      "NOT_FOUND",
    ]);
    const tooLong = await t.gql(`mutation { createCustomerToken(customer: { externalId: "me" }, ttlSeconds: 99999999) { token } }`);
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION_ERROR", field: "ttlSeconds" });
  });
});
