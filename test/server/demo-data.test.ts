// The demo a first start loads into an empty embedded database (src/seed/demo.ts), seen as a
// newcomer sees it: through the README's first query, every part of an entitlement at once.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProjectWithAdminKey, ensureStartupKey } from "../../src/auth/projects.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { createLogger } from "../../src/logger.ts";
import { seedDemo } from "../../src/seed/demo.ts";
import { createApp, type App } from "../../src/yoga.ts";
import { projectRoot } from "../helpers/process.ts";

const DAY = 24 * 60 * 60 * 1000;
const README_QUERY = /```graphql\n([\s\S]+?)```/.exec(readFileSync(join(projectRoot, "README.md"), "utf8"))![1]!;

let database: Database;
let app: App;
let key: string;
let projectId: string;

async function gql(query: string, variables: Record<string, unknown> = {}, apiKey = key) {
  const response = await app.fetch("http://demo/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: any; errors?: unknown[] };
  expect(result.errors).toBeUndefined();
  return result.data;
}

beforeAll(async () => {
  // What src/server.ts does on a first start: migrate, make the default project, load the demo.
  database = openDatabase({ kind: "pglite", instance: new PGlite() });
  await applyMigrations(database);
  const startup = await ensureStartupKey(database.prisma, undefined);
  if (startup.kind !== "first-start") throw new Error(`expected a first start, got ${startup.kind}`);
  key = startup.secret;
  projectId = startup.projectId;
  expect(await seedDemo(database.prisma, projectId)).toBe(true);
  app = createApp({ database, log: createLogger("silent"), isReady: async () => ({ ready: true }) });
});
afterAll(() => database?.close());

interface Row {
  customer: string;
  featureKey: string;
  hasAccess: boolean;
  isSoftLimit: boolean;
  usageLimit: number | null;
  staticValue: string | null;
  usage: { used: number; remaining: number | null; periodEnd: string | null } | null;
  sources: { type: string; entityName: string | null; activeTo: string | null }[];
}

describe("the demo data, through the README's first query", () => {
  let rows: Row[];
  let customers: any[];
  const now = Date.now();

  beforeAll(async () => {
    const data = await gql(README_QUERY);
    customers = data.customers.edges.map((edge: any) => edge.node);
    rows = customers.flatMap((customer) => customer.entitlements.map((row: any) => ({ customer: customer.externalId, ...row })));
  });

  it("has a customer close to a hard limit this period, still allowed", () => {
    const near = rows.find(
      (row) => row.usage && !row.isSoftLimit && row.usageLimit && row.usage.used >= 0.9 * row.usageLimit && row.usage.used < row.usageLimit,
    );
    expect(near).toMatchObject({
      customer: "globex",
      featureKey: "api-calls",
      hasAccess: true,
      usageLimit: 10_000,
      usage: { used: 9_800, remaining: 200 },
    });
    expect(Date.parse(near!.usage!.periodEnd!)).toBeGreaterThan(now);
  });

  it("has a customer over a soft limit, still allowed, whose limit includes an add-on", () => {
    const over = rows.find((row) => row.isSoftLimit && row.usage?.remaining != null && row.usage.remaining < 0);
    expect(over).toMatchObject({
      customer: "acme",
      featureKey: "api-calls",
      hasAccess: true,
      usageLimit: 250_000,
      usage: { used: 262_480, remaining: -12_480 },
    });
    expect(over!.sources.map((source) => [source.type, source.entityName])).toEqual([
      ["PLAN", "Pro"],
      ["ADDON", "Extra API calls"],
    ]);
  });

  it("has a grant expiring within weeks", () => {
    const expiring = rows.flatMap((row) =>
      row.sources.filter((source) => source.type === "GRANT" && source.activeTo).map((source) => ({ row, source })),
    );
    expect(expiring.map(({ row }) => `${row.customer}:${row.featureKey}`).sort()).toEqual(["globex:sso", "initech:support-level"]);
    for (const { source } of expiring) {
      const expiresAt = Date.parse(source.activeTo!);
      expect(expiresAt).toBeGreaterThan(now);
      expect(expiresAt).toBeLessThan(now + 31 * DAY);
    }
    const globex = customers.find((customer) => customer.externalId === "globex");
    expect(globex.grants.edges.map((edge: any) => edge.node)).toMatchObject([
      { feature: { key: "sso" }, reason: "Trial of single sign-on" },
    ]);
  });

  it("has a trial, and a STATIC feature whose best level wins over the plan's", () => {
    const initech = customers.find((customer) => customer.externalId === "initech");
    expect(initech.subscriptions.edges.map((edge: any) => edge.node.status)).toEqual(["TRIALING"]);
    const support = rows.find((row) => row.customer === "initech" && row.featureKey === "support-level");
    expect(support).toMatchObject({ staticValue: "phone", usage: null });
    expect(support!.sources.map((source) => source.type).sort()).toEqual(["GRANT", "PLAN"]);
  });

  it("has usage this period for every customer, and seats taken that never reset", () => {
    for (const customer of ["acme", "globex", "initech"]) {
      const calls = rows.find((row) => row.customer === customer && row.featureKey === "api-calls");
      expect(calls?.usage?.used, customer).toBeGreaterThan(0);
    }
    const seats = Object.fromEntries(
      rows.filter((row) => row.featureKey === "seats").map((row) => [row.customer, [row.usage?.used, row.usageLimit]]),
    );
    expect(seats).toEqual({ acme: [7, 10], globex: [2, 3], initech: [1, 3] });
  });
});

describe("the demo's usage", () => {
  it("is counted by the API's own checks: Globex may make 200 more calls, not 201", async () => {
    const data = await gql(`{
      fits: checkEntitlement(customer: { externalId: "globex" }, featureKey: "api-calls", quantity: 200) { allowed }
      over: checkEntitlement(customer: { externalId: "globex" }, featureKey: "api-calls", quantity: 201) { allowed reason }
    }`);
    expect(data.fits.allowed).toBe(true);
    expect(data.over.allowed).toBe(false);
  });

  // Periods follow each subscription's billing anchor; loaded on an awkward day (a month's
  // last day, a leap day, midnight), the usage still lands in the period current then.
  it.each(["2027-01-31T23:59:59.000Z", "2027-03-01T00:00:00.000Z", "2028-02-29T12:00:00.000Z", "2027-12-31T00:00:01.000Z"])(
    "falls in the current period when loaded at %s",
    async (at) => {
      const project = await createProjectWithAdminKey(database.prisma, `demo-at-${at}`);
      expect(await seedDemo(database.prisma, project.projectId, new Date(at))).toBe(true);
      const data = await gql(
        `query ($at: DateTime!) {
          customers { edges { node { externalId entitlement(featureKey: "api-calls", at: $at) { usage { used periodStart periodEnd } } } } }
        }`,
        { at },
        project.secret,
      );
      const usage = Object.fromEntries(data.customers.edges.map((edge: any) => [edge.node.externalId, edge.node.entitlement.usage]));
      expect(Object.fromEntries(Object.entries(usage).map(([customer, value]: [string, any]) => [customer, value.used]))).toEqual({
        acme: 262_480,
        globex: 9_800,
        initech: 1_240,
      });
      for (const value of Object.values(usage) as { periodStart: string; periodEnd: string }[]) {
        expect(Date.parse(value.periodStart)).toBeLessThanOrEqual(Date.parse(at));
        // Not about to roll over: the demo stays as loaded for days.
        expect(Date.parse(value.periodEnd) - Date.parse(at)).toBeGreaterThan(3 * DAY);
      }
    },
  );
});

describe("loading the demo", () => {
  it("happens only on an empty project", async () => {
    const counts = () =>
      Promise.all([
        database.prisma.feature.count({ where: { projectId } }),
        database.prisma.customer.count({ where: { projectId } }),
        database.prisma.usageRecord.count({ where: { projectId } }),
      ]);
    const before = await counts();
    expect(await seedDemo(database.prisma, projectId)).toBe(false);
    expect(await counts()).toEqual(before);
  });
});
