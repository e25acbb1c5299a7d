// docs/rules.md §7: API keys, scopes, and what a caller without a valid key gets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorCodes, type TestApp } from "../helpers/app.ts";
import { hashApiKey } from "../../src/auth/api-keys.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const CREATE_KEY = `mutation ($name: String!, $scopes: [ApiKeyScope!]!) {
  createApiKey(input: { name: $name, scopes: $scopes }) { secret apiKey { id name prefix scopes revokedAt } }
}`;
const createKey = async (scopes: string[], name = `${scopes.join("+")} key`) => {
  const result = await t.gql(CREATE_KEY, { name, scopes });
  expect(result.errors).toBeUndefined();
  return result.data.createApiKey as { secret: string; apiKey: { id: string; prefix: string; scopes: string[] } };
};
const CREATE_FEATURE = `mutation ($key: String!) { createFeature(input: { key: $key, name: "A feature", type: BOOLEAN }) { key } }`;
const LIST_FEATURES = `{ features { totalCount } }`;

describe("authentication", () => {
  it("refuses a request without a key with UNAUTHENTICATED", async () => {
    const result = await t.gql(LIST_FEATURES, {}, { key: null });
    expect(errorCodes(result)).toEqual(["UNAUTHENTICATED"]);
  });

  it("refuses an unknown key with UNAUTHENTICATED", async () => {
    const result = await t.gql(LIST_FEATURES, {}, { key: "ent_not-a-real-key" });
    expect(errorCodes(result)).toEqual(["UNAUTHENTICATED"]);
  });

  it("accepts the key in x-api-key as well as Authorization: Bearer", async () => {
    const response = await t.app.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": t.adminKey },
      body: JSON.stringify({ query: LIST_FEATURES }),
    });
    const body = await response.json();
    expect(body.errors).toBeUndefined();
    expect(body.data.features.totalCount).toBe(0);
  });

  it("lets anyone introspect the schema (GraphiQL's explorer) but read nothing", async () => {
    const result = await t.gql(`{ __schema { queryType { name } } }`, {}, { key: null });
    expect(result.data.__schema.queryType.name).toBe("Query");
  });
});

describe("scopes", () => {
  it("READ reads and checks but cannot write", async () => {
    const { secret } = await createKey(["READ"]);
    expect((await t.gql(LIST_FEATURES, {}, { key: secret })).errors).toBeUndefined();
    const write = await t.gql(CREATE_FEATURE, { key: "read-only" }, { key: secret });
    expect(errorCodes(write)).toEqual(["PERMISSION_DENIED"]);
    expect(write.errors?.[0]?.extensions?.requiredScope).toBe("WRITE");
    expect(await t.database.prisma.feature.count({ where: { key: "read-only" } })).toBe(0);
  });

  it("WRITE writes but cannot manage keys", async () => {
    const { secret } = await createKey(["WRITE"]);
    expect((await t.gql(CREATE_FEATURE, { key: "written" }, { key: secret })).data.createFeature.key).toBe("written");
    expect(errorCodes(await t.gql(`{ apiKeys { id } }`, {}, { key: secret }))).toEqual(["PERMISSION_DENIED"]);
    expect(errorCodes(await t.gql(CREATE_KEY, { name: "x", scopes: ["READ"] }, { key: secret }))).toEqual(["PERMISSION_DENIED"]);
  });

  it("ADMIN manages keys; a key's secret is shown once and stored only as a hash", async () => {
    const created = await createKey(["READ", "WRITE"], "service");
    expect(created.secret).toMatch(/^ent_[A-Za-z0-9_-]{40,}$/);
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true);
    expect(created.apiKey.scopes.sort()).toEqual(["READ", "WRITE"]);

    const listed = await t.gql(`{ apiKeys { id name prefix } }`);
    expect(listed.data.apiKeys.map((key: { name: string }) => key.name)).toContain("service");
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const rows = await t.database.prisma.apiKey.findMany({ where: { projectId: t.projectId } });
    expect(rows.some((row) => row.hash === hashApiKey(created.secret))).toBe(true);
    // Neither this key nor the project's first one is kept in the clear.
    expect(JSON.stringify(rows)).not.toContain(created.secret);
    expect(JSON.stringify(rows)).not.toContain(t.adminKey);
  });

  it("a revoked key stops working at once", async () => {
    const { secret, apiKey } = await createKey(["READ"]);
    const revoked = await t.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, { id: apiKey.id });
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    expect(errorCodes(await t.gql(LIST_FEATURES, {}, { key: secret }))).toEqual(["UNAUTHENTICATED"]);
    const again = await t.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id });
    expect(errorCodes(again)).toEqual(["INVALID_OPERATION"]);
  });

  it("refuses to revoke the project's last active ADMIN key", async () => {
    const project = await t.newProject();
    const keys = await t.gql(`{ apiKeys { id scopes } }`, {}, { key: project.key });
    const [admin] = keys.data.apiKeys;
    const result = await t.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: admin.id }, { key: project.key });
    expect(errorCodes(result)).toEqual(["INVALID_OPERATION"]);
    expect((await t.gql(LIST_FEATURES, {}, { key: project.key })).errors).toBeUndefined();
  });

  it("refuses a key without scopes or name", async () => {
    const noScopes = await t.gql(CREATE_KEY, { name: "none", scopes: [] });
    expect(errorCodes(noScopes)).toEqual(["VALIDATION_ERROR"]);
    expect(noScopes.errors?.[0]?.extensions?.field).toBe("input.scopes");
    const noName = await t.gql(CREATE_KEY, { name: " ", scopes: ["READ"] });
    expect(noName.errors?.[0]?.extensions?.field).toBe("input.name");
  });
});
