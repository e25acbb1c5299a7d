// The README's promise: `npm start` on a fresh machine serves GraphQL with demo data on the
// embedded database, prints its first key once, is healthy and ready, and stops cleanly.
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { graphql, projectRoot, startServerProcess } from "../helpers/process.ts";
import { createTemporaryDatabase } from "../helpers/postgres.ts";

const dataDir = mkdtempSync(join(tmpdir(), "entitlements-data-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const DEMO_QUERY = `{
  features { totalCount edges { node { key type } } }
  customers(first: 10) { totalCount edges { node { externalId subscriptions { edges { node { plan { key } status } } } } } }
}`;

describe("npm start on the embedded database", () => {
  let firstKey = "";

  it("prints the first key once, loads the demo, and answers GraphQL, /healthz, /readyz and GraphiQL", async () => {
    const server = await startServerProcess({ DATA_DIR: dataDir });
    try {
      const match = /shown only now; keep it\):\s+(ent_\S+)/.exec(server.output());
      expect(match).not.toBeNull();
      firstKey = match![1]!;

      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready" });

      const page = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/GraphiQL/i);

      // The query the README tells newcomers to paste into GraphiQL works on the demo.
      const readmeQuery = /```graphql\n([\s\S]+?)```/.exec(readFileSync(join(projectRoot, "README.md"), "utf8"))![1]!;
      const fromReadme = await graphql(server.url, firstKey, readmeQuery);
      expect(fromReadme.errors).toBeUndefined();
      expect(fromReadme.data.customers.totalCount).toBe(3);
      expect(fromReadme.data.plans.edges.map((edge: any) => edge.node.key).sort()).toEqual(["extra-api-calls", "pro", "starter"]);

      const demo = await graphql(server.url, firstKey, DEMO_QUERY);
      expect(demo.errors).toBeUndefined();
      expect(demo.data.features.totalCount).toBe(5);
      expect(demo.data.customers.totalCount).toBe(3);
      const acme = demo.data.customers.edges.find((edge: any) => edge.node.externalId === "acme").node;
      expect(acme.subscriptions.edges[0].node).toEqual({ plan: { key: "pro" }, status: "ACTIVE" });
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).toMatch(/"msg":"stopped"/);
  });

  it("on a second start keeps its data: no new key, no second demo", async () => {
    const server = await startServerProcess({ DATA_DIR: dataDir });
    try {
      expect(server.output()).not.toMatch(/shown only now/);
      const demo = await graphql(server.url, firstKey, `{ customers { totalCount } }`);
      expect(demo.data.customers.totalCount).toBe(3);
    } finally {
      await server.stop();
    }
  });

  it("project:create makes another project whose key is the last line, and sees nothing of the first", async () => {
    const output = execFileSync("npm", ["run", "--silent", "project:create", "--", "Second", "project"], {
      cwd: projectRoot,
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: "utf8",
    });
    const key = output.trim().split("\n").at(-1)!;
    expect(key).toMatch(/^ent_[A-Za-z0-9_-]{40,}$/);
    const server = await startServerProcess({ DATA_DIR: dataDir });
    try {
      const result = await graphql(server.url, key, `{ customers { totalCount } features { totalCount } }`);
      expect(result.data).toEqual({ customers: { totalCount: 0 }, features: { totalCount: 0 } });
    } finally {
      await server.stop();
    }
  });

  it("finishes a request in flight when told to stop", async () => {
    const server = await startServerProcess({ DATA_DIR: dataDir });
    // The request's head goes first, with Expect: 100-continue: the server's "100 Continue"
    // says it is handling the request. Then the stop, and only then the body.
    const request = httpRequest(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${firstKey}`, expect: "100-continue" },
    });
    const responded = once(request, "response") as Promise<[IncomingMessage]>;
    request.flushHeaders();
    await once(request, "continue");
    const exitCode = server.stop();
    request.end(JSON.stringify({ query: DEMO_QUERY }));
    const [response] = await responded;
    let body = "";
    for await (const chunk of response) body += chunk;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(body).data.features.totalCount).toBe(5);
    expect(await exitCode).toBe(0);
  });
});

describe("npm start on PostgreSQL", () => {
  it("migrates a fresh database, honours BOOTSTRAP_API_KEY, and loads no demo unless asked", async () => {
    const database = await createTemporaryDatabase("entitlements_start");
    const bootstrapKey = "ent_bootstrap-key-for-the-test-0123456789";
    try {
      const server = await startServerProcess({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: bootstrapKey });
      try {
        expect(server.output()).not.toMatch(/shown only now/);
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        const result = await graphql(server.url, bootstrapKey, `{ features { totalCount } apiKeys { scopes } }`);
        expect(result.data).toEqual({ features: { totalCount: 0 }, apiKeys: [{ scopes: ["ADMIN"] }] });
      } finally {
        expect(await server.stop()).toBe(0);
      }
    } finally {
      await database.drop();
    }
  });
});
