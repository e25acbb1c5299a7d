// The audit log through the API (docs/rules.md §9), on both databases: an entry for each
// kind of mutation, in the mutation's own transaction (a refused one leaves none), naming the
// key that wrote and the request, with the input but no secret; usage recording leaves none;
// ADMIN only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, ok, type GraphQLResponse, type TestApp } from "../helpers/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ webhookAddresses: { allowPrivate: true } });
});
afterAll(() => t.close());

/** Runs a mutation with a request id of its own; answers its data and that id. */
async function mutate(query: string, variables: Record<string, unknown> = {}, key = t.adminKey) {
  const requestId = `audit-${Math.random().toString(36).slice(2)}`;
  const response = await t.app.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-request-id": requestId },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse;
  return { body, requestId };
}

const ENTRIES = `query ($entityId: ID, $operation: String, $first: Int) {
  auditLog(entityId: $entityId, operation: $operation, first: $first) {
    totalCount
    edges { node { operation entityId actorKeyPrefix actorKeyName input requestId occurredAt } }
  }
}`;
type Entry = {
  operation: string;
  entityId: string | null;
  actorKeyPrefix: string;
  actorKeyName: string;
  input: Record<string, unknown>;
  requestId: string;
};
const entries = async (variables: Record<string, unknown> = {}) =>
  ok(await t.gql(ENTRIES, { first: 100, ...variables })).auditLog.edges.map((edge: { node: Entry }) => edge.node) as Entry[];

describe("the audit log", () => {
  const written: { operation: string; entityId: string | null; requestId: string }[] = [];
  const secrets: string[] = [];
  /** Runs a mutation that must succeed, and notes the entry it must leave. */
  async function audited(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
    entityOf: (data: Record<string, any>) => string | null,
  ) {
    const { body, requestId } = await mutate(query, variables);
    const data = ok(body);
    written.push({ operation, entityId: entityOf(data[operation]), requestId });
    return data[operation];
  }

  it("holds one entry per successful mutation of every kind, newest first, with the object, the key and the request", async () => {
    const feature = await audited(
      "createFeature",
      `mutation { createFeature(input: { key: "seats", name: "Seats", type: METERED }) { id } }`,
      {},
      (d) => d.id,
    );
    await audited(
      "updateFeature",
      `mutation ($id: ID!) { updateFeature(input: { id: $id, name: "Seats!" }) { id } }`,
      { id: feature.id },
      (d) => d.id,
    );
    const flag = await audited(
      "createFeature",
      `mutation { createFeature(input: { key: "sso", name: "SSO", type: BOOLEAN }) { id } }`,
      {},
      (d) => d.id,
    );
    await audited("archiveFeature", `mutation ($id: ID!) { archiveFeature(id: $id) { id } }`, { id: flag.id }, (d) => d.id);
    const plan = await audited("createPlan", `mutation { createPlan(input: { key: "team", name: "Team" }) { id } }`, {}, (d) => d.id);
    const addon = await audited(
      "createPlan",
      `mutation { createPlan(input: { key: "extra", name: "Extra", kind: ADDON }) { id } }`,
      {},
      (d) => d.id,
    );
    await audited(
      "updatePlan",
      `mutation ($id: ID!) { updatePlan(input: { id: $id, description: "for teams" }) { id } }`,
      { id: plan.id },
      (d) => d.id,
    );
    await audited(
      "setPlanEntitlement",
      `mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "seats", usageLimit: 10 }) { id } }`,
      { p: plan.id },
      (d) => d.id,
    );
    const addonSeats = await audited(
      "setPlanEntitlement",
      `mutation ($p: ID!) { setPlanEntitlement(input: { planId: $p, featureKey: "seats", usageLimit: 5 }) { id } }`,
      { p: addon.id },
      (d) => d.id,
    );
    const customer = await audited("createCustomer", `mutation { createCustomer(input: { externalId: "acme" }) { id } }`, {}, (d) => d.id);
    await audited(
      "updateCustomer",
      `mutation ($id: ID!) { updateCustomer(input: { id: $id, name: "Acme" }) { id } }`,
      { id: customer.id },
      (d) => d.id,
    );
    const subscription = await audited(
      "createSubscription",
      `mutation ($p: ID!) { createSubscription(input: { customer: { externalId: "acme" }, planId: $p }) { id } }`,
      { p: plan.id },
      (d) => d.id,
    );
    const extra = await audited(
      "addSubscriptionAddon",
      `mutation ($s: ID!, $a: ID!) { addSubscriptionAddon(input: { subscriptionId: $s, addonId: $a }) { id } }`,
      { s: subscription.id, a: addon.id },
      (d) => d.id,
    );
    await audited(
      "removeSubscriptionAddon",
      `mutation ($id: ID!) { removeSubscriptionAddon(id: $id) { id } }`,
      { id: extra.id },
      (d) => d.id,
    );
    await audited(
      "setSubscriptionOverride",
      `mutation ($s: ID!) { setSubscriptionOverride(input: { subscriptionId: $s, featureKey: "seats", usageLimit: 50 }) { id } }`,
      { s: subscription.id },
      (d) => d.id,
    );
    await audited(
      "removeSubscriptionOverride",
      `mutation ($s: ID!) { removeSubscriptionOverride(subscriptionId: $s, featureKey: "seats") { id } }`,
      { s: subscription.id },
      (d) => d.id,
    );
    const grant = await audited(
      "createGrant",
      `mutation { createGrant(input: { customer: { externalId: "acme" }, featureKey: "seats", kind: CREDIT, amount: 100 }) { id } }`,
      {},
      (d) => d.id,
    );
    await audited("voidGrant", `mutation ($id: ID!) { voidGrant(id: $id) { id } }`, { id: grant.id }, (d) => d.id);
    const created = await audited(
      "createApiKey",
      `mutation { createApiKey(input: { name: "ci", scopes: [WRITE] }) { apiKey { id } secret } }`,
      {},
      (d) => d.apiKey.id,
    );
    secrets.push(created.secret);
    await audited("revokeApiKey", `mutation ($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.apiKey.id }, (d) => d.id);
    const token = await audited(
      "createCustomerToken",
      `mutation { createCustomerToken(customer: { externalId: "acme" }) { token } }`,
      {},
      () => null,
    );
    secrets.push(token.token);
    const endpoint = await audited(
      "createWebhookEndpoint",
      `mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hook?token=hook-token" }) { endpoint { id } signingSecret } }`,
      {},
      (d) => d.endpoint.id,
    );
    secrets.push(endpoint.signingSecret);
    await audited(
      "updateWebhookEndpoint",
      `mutation ($id: ID!) { updateWebhookEndpoint(input: { id: $id, description: "ops" }) { id } }`,
      { id: endpoint.endpoint.id },
      (d) => d.id,
    );
    const rotated = await audited(
      "rotateWebhookSecret",
      `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { endpoint { id } signingSecret } }`,
      { id: endpoint.endpoint.id },
      (d) => d.endpoint.id,
    );
    secrets.push(rotated.signingSecret);
    await audited(
      "removePlanEntitlement",
      `mutation ($p: ID!) { removePlanEntitlement(planId: $p, featureKey: "seats") { id } }`,
      { p: addon.id },
      () => addonSeats.id, // the plan entitlement written, not the plan it answers
    );
    await audited(
      "changeSubscriptionPlan",
      `mutation ($s: ID!, $p: ID!) { changeSubscriptionPlan(input: { subscriptionId: $s, planId: $p }) { id } }`,
      { s: subscription.id, p: plan.id },
      (d) => d.id,
    );
    await audited(
      "cancelSubscription",
      `mutation ($s: ID!) { cancelSubscription(input: { subscriptionId: $s }) { id } }`,
      { s: subscription.id },
      (d) => d.id,
    );
    await audited("archivePlan", `mutation ($id: ID!) { archivePlan(id: $id) { id } }`, { id: addon.id }, (d) => d.id);

    const log = await entries();
    const adminKey = await t.database.prisma.apiKey.findFirstOrThrow({ where: { projectId: t.projectId, scopes: { has: "ADMIN" } } });
    expect(log.map(({ operation, entityId, requestId }) => ({ operation, entityId, requestId }))).toEqual([...written].reverse());
    for (const entry of log) expect(entry).toMatchObject({ actorKeyPrefix: adminKey.prefix, actorKeyName: adminKey.name });
    // The input as given, ids included.
    expect(log.find((entry) => entry.operation === "updateCustomer")?.input).toEqual({ input: { id: customer.id, name: "Acme" } });
    // No secret anywhere: not the keys, tokens or signing secrets the mutations answered, not the admin key.
    const stored = JSON.stringify(await t.database.prisma.auditEntry.findMany());
    for (const secret of [...secrets, t.adminKey, "hook-token"]) expect(stored).not.toContain(secret);
  });

  it("has no entry for usage recording or a refused mutation", async () => {
    const before = (await entries()).length;
    ok(await t.gql(`mutation { recordUsage(input: { customer: { externalId: "acme" }, featureKey: "seats", quantity: 1 }) { id } }`));
    ok(await t.gql(`mutation { recordUsages(records: [{ customer: { externalId: "acme" }, featureKey: "seats" }]) { recordedCount } }`));
    ok(await t.gql(`mutation { consumeEntitlement(input: { customer: { externalId: "acme" }, featureKey: "seats" }) { allowed } }`));
    const refused = [
      `mutation { createFeature(input: { key: "seats", name: "Again", type: METERED }) { id } }`, // duplicate key
      `mutation { createCustomer(input: { externalId: "acme" }) { id } }`, // duplicate externalId
      `mutation { createGrant(input: { customer: { externalId: "acme" }, featureKey: "seats", kind: CREDIT, amount: 0 }) { id } }`,
      `mutation { createGrant(input: { customer: { externalId: "nobody" }, featureKey: "seats", usageLimit: 1 }) { id } }`,
    ];
    for (const query of refused) expect((await t.gql(query)).errors?.length).toBeGreaterThan(0);
    // Refused inside its transaction, after a write had begun.
    const subscription = ok(await t.gql(`{ customer(externalId: "acme") { subscriptions(first: 1) { edges { node { id } } } } }`)).customer
      .subscriptions.edges[0].node.id;
    const override = await t.gql(`mutation ($s: ID!) { removeSubscriptionOverride(subscriptionId: $s, featureKey: "seats") { id } }`, {
      s: subscription,
    });
    expect(override.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect((await entries()).length).toBe(before);
  });

  it("filters by object and by operation, and is for ADMIN keys only", async () => {
    // Newest first: the last is the first feature made ("seats"), then updated.
    const feature = (await entries({ operation: "createFeature" })).at(-1);
    expect(feature?.input).toEqual({ input: { key: "seats", name: "Seats", type: "METERED" } });
    const about = await entries({ entityId: feature!.entityId });
    expect(about.map((entry) => entry.operation).sort()).toEqual(["createFeature", "updateFeature"]);
    const writer = ok(await t.gql(`mutation { createApiKey(input: { name: "writer", scopes: [WRITE] }) { secret } }`)).createApiKey.secret;
    expect((await t.gql(ENTRIES, {}, { key: writer })).errors?.[0]?.extensions?.code).toBe("PERMISSION_DENIED");
  });
});
