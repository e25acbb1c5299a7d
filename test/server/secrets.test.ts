// Secrets in the logs: nothing the listening server logs, at its most verbose, contains a
// key or a token — whatever the client sends, wherever it sends it. (That a key's secret is
// stored only as its hash: test/api/access.test.ts and test/db/startup-key.test.ts; that a
// forged or expired customer token is refused: test/api/customer-tokens.test.ts.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { graphql } from "../helpers/process.ts";
import { seed } from "../helpers/seed.ts";
import { waitUntil } from "../helpers/wait.ts";

const adminKey = "ent_secrets-test-admin-key-0123456789abcdef";
const tokenSecret = "secrets-test-customer-token-secret-0123456789";
const dataDir = mkdtempSync(join(tmpdir(), "entitlements-secrets-"));
let server: RunningServer;
let logged = "";

beforeAll(async () => {
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  server = await startServer(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      BOOTSTRAP_API_KEY: adminKey,
      CUSTOMER_TOKEN_SECRET: tokenSecret,
      SEED_DEMO: "false",
      LOG_LEVEL: "debug",
    }),
    createLogger("debug", capture),
  );
  await seed((query, variables) => graphql(server.url, adminKey, query, variables)).customer("acme");
});
afterAll(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const post = (authorization: Record<string, string>, body: unknown) =>
  fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization },
    body: JSON.stringify(body),
  }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

describe("secrets", () => {
  it("never write a key or a token into the logs, whatever the client sends and wherever", async () => {
    const created = await graphql(
      server.url,
      adminKey,
      `mutation { createApiKey(input: { name: "logged?", scopes: [WRITE] }) { secret } }`,
    );
    const secret = created.data.createApiKey.secret as string;
    const issued = await graphql(server.url, adminKey, `mutation { createCustomerToken(customer: { externalId: "acme" }) { token } }`);
    const token = issued.data.createCustomerToken.token as string;
    const wrongKey = "ent_not-a-real-key-but-secret-looking-0123456789";
    // Keys in every header they may come in, in variables, in a failing query, in an unreadable body.
    await post({ authorization: `Bearer ${secret}` }, { query: `{ features(first: 1) { totalCount } }` });
    await post({ "x-api-key": secret }, { query: `{ nope }` });
    await post({ authorization: `Bearer ${wrongKey}` }, { query: `{ features(first: 1) { totalCount } }` });
    await post({ authorization: `Bearer ${token}` }, { query: `{ features(first: 1) { totalCount } }` });
    await post(
      { authorization: `Bearer ${secret}` },
      {
        query: `mutation ($k: String!) { createCustomer(input: { externalId: $k }) { id } }`,
        variables: { k: `x${"y".repeat(300)}${token}` },
      },
    );
    await post(
      { authorization: `Bearer ${secret}` },
      { query: `query ($k: Int!) { features(first: $k) { totalCount } }`, variables: { k: wrongKey } },
    );
    await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: `{"query": "${token}`,
    });
    // Over WebSocket, in the connection's parameters.
    const client = createClient({
      url: `${server.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
    });
    // Another customer's changes: refused, so the server answers and ends the subscription.
    let answered = false;
    client.subscribe(
      { query: `subscription { entitlementsChanged(customer: { externalId: "someone-else" }) { cause } }` },
      { next: () => {}, error: () => (answered = true), complete: () => (answered = true) },
    );
    await waitUntil(() => answered, { what: "the server to answer the WebSocket subscription" });
    // The server has handled it, and logs synchronously: whatever it logged is in `logged`.
    await client.dispose();

    expect(logged.length).toBeGreaterThan(1000); // it did log, verbosely
    for (const [name, value] of Object.entries({ adminKey, secret, token, wrongKey, tokenSecret })) {
      expect({ name, inLogs: logged.includes(value) }).toEqual({ name, inLogs: false });
    }
    // Nor a recognisable part of a token (its signature).
    expect(logged.includes(token.split(".")[2]!)).toBe(false);
  });

  it("redact a credential the code itself logs, at the top or nested up to three objects down", () => {
    let line = "";
    const log = createLogger(
      "info",
      new Writable({
        write: (chunk, _encoding, done) => {
          line += chunk;
          done();
        },
      }),
    );
    log.info(
      {
        authorization: "Bearer top",
        secret: "s1",
        req: { headers: { authorization: "Bearer nested", "x-api-key": "k1" } },
        a: { b: { c: { token: "t1" } } },
        featureKey: "kept",
      },
      "logged",
    );
    for (const value of ["Bearer top", "s1", "Bearer nested", "k1", "t1"])
      expect({ value, inLog: line.includes(value) }).toEqual({ value, inLog: false });
    expect(line).toContain('"featureKey":"kept"');
    expect(line.match(/\[redacted\]/g)).toHaveLength(5);
  });
});
