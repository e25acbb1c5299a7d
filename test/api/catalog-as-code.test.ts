// Catalog as code through the API and the command (docs/rules.md §9), on both databases:
// export then apply changes nothing; a document is applied in one transaction and a second
// apply of it changes nothing; a dry run and a refused document write nothing (the tables
// hash the same); archiveMissing archives; edits announce their events; the JSON Schema
// shipped is the format's.
import { execFile } from "node:child_process";
import { Ajv2020 } from "ajv/dist/2020.js";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogFormat, catalogJsonSchema } from "../../src/services/catalog-format.ts";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";
import { projectRoot } from "../helpers/process.ts";
import { seed } from "../helpers/seed.ts";
import { waitUntil } from "../helpers/wait.ts";

let t: TestApp;
let http: Server;
let url: string;
beforeAll(async () => {
  t = await createTestApp();
  const s = seed(t);
  await s.feature({ key: "seats", type: "METERED", unitSingular: "seat" });
  await s.feature({ key: "sso", type: "BOOLEAN" });
  await s.plan({ key: "team", entitlements: { seats: { usageLimit: 10 }, sso: {} } });
  await s.customer("on-team");
  const team = ok(await t.gql(`{ plan(key: "team") { id } }`)).plan.id;
  await s.subscription("on-team", { planId: team });
  http = createServer(t.app);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  await t.close();
});

const APPLY = `mutation ($c: JSON!, $dry: Boolean, $archive: Boolean) {
  applyCatalog(catalog: $c, dryRun: $dry, archiveMissing: $archive) { applied changes { action kind key fields } catalog }
}`;
const apply = async (catalog: unknown, options: { dry?: boolean; archive?: boolean } = {}) =>
  ok(await t.gql(APPLY, { c: catalog, ...options })).applyCatalog as {
    applied: boolean;
    changes: { action: string; kind: string; key: string; fields: string[] }[];
    catalog: unknown;
  };
const exported = async () => ok(await t.gql("{ exportCatalog }")).exportCatalog as { features: any[]; plans: any[] };

/** A hash of every table a catalog apply may write: equal hashes, nothing written. */
async function tablesHash(): Promise<string> {
  const p = t.database.prisma;
  const where = { projectId: t.projectId };
  const rows = await Promise.all([
    p.feature.findMany({ where, orderBy: { id: "asc" } }),
    p.plan.findMany({ where, orderBy: { id: "asc" } }),
    p.planEntitlement.findMany({ where: { plan: where }, orderBy: { id: "asc" } }),
    p.eventJob.count({ where }),
    p.loggedEvent.count({ where }),
  ]);
  return createHash("sha256").update(JSON.stringify(rows)).digest("hex");
}

describe("catalog as code", () => {
  it("exports the catalog by key, and applying the export changes nothing", async () => {
    const document = await exported();
    expect(document.features.map((feature) => feature.key)).toEqual(["seats", "sso"]);
    expect(document.plans).toEqual([
      {
        key: "team",
        name: "team",
        kind: "PLAN",
        entitlements: [
          { featureKey: "seats", isEnabled: true, usageLimit: 10, isUnlimited: false, resetPeriod: "MONTHLY", isSoftLimit: false },
          { featureKey: "sso", isEnabled: true, isUnlimited: false, isSoftLimit: false },
        ],
      },
    ]);
    expect(catalogFormat.safeParse(document).success).toBe(true);
    const before = await tablesHash();
    expect(await apply(document)).toMatchObject({ applied: false, changes: [] });
    expect(await tablesHash()).toBe(before);
  });

  it("applies a document in one go, announces what it changes, and a second apply of it changes nothing", async () => {
    const document = await exported();
    document.features.push({ key: "exports", name: "Exports", type: "METERED" });
    document.plans[0].entitlements[0].usageLimit = 25;
    document.plans[0].entitlements.push({ featureKey: "exports", usageLimit: 100 });
    document.plans.push({ key: "boost", name: "Boost", kind: "ADDON", entitlements: [{ featureKey: "seats", usageLimit: 5 }] });
    const latest = await t.database.prisma.loggedEvent.findFirst({ where: { projectId: t.projectId }, orderBy: { id: "desc" } });
    const first = await apply(document);
    expect(first.applied).toBe(true);
    expect(first.changes).toEqual([
      { action: "CREATE", kind: "FEATURE", key: "exports", fields: ["type", "name"] },
      { action: "CREATE", kind: "PLAN", key: "boost", fields: ["kind", "name"] },
      { action: "UPDATE", kind: "PLAN_ENTITLEMENT", key: "team/seats", fields: ["usageLimit"] },
      {
        action: "CREATE",
        kind: "PLAN_ENTITLEMENT",
        key: "team/exports",
        fields: ["isEnabled", "usageLimit", "isUnlimited", "resetPeriod", "isSoftLimit"],
      },
      {
        action: "CREATE",
        kind: "PLAN_ENTITLEMENT",
        key: "boost/seats",
        fields: ["isEnabled", "usageLimit", "isUnlimited", "resetPeriod", "isSoftLimit"],
      },
    ]);
    expect(first.catalog).toEqual(await exported());
    // The team's customer hears it, as from setPlanEntitlement.
    await waitUntil(async () => (await t.database.prisma.eventJob.count({ where: { projectId: t.projectId } })) === 0, {
      what: "the jobs",
    });
    const events = await t.database.prisma.loggedEvent.findMany({ where: { projectId: t.projectId, id: { gt: latest?.id ?? 0n } } });
    expect(events.flatMap((event) => event.featureKeys).sort()).toEqual(["exports", "seats"]);
    const seats = ok(await t.gql(`{ customer(externalId: "on-team") { entitlement(featureKey: "seats") { usageLimit } } }`));
    expect(seats.customer.entitlement.usageLimit).toBe(25);

    // Its audit entry was written with it.
    const [entry] = await t.database.prisma.auditEntry.findMany({
      where: { projectId: t.projectId, operation: "applyCatalog" },
      orderBy: { id: "desc" },
      take: 1,
    });
    expect(entry?.input).toMatchObject({ catalog: { plans: expect.arrayContaining([expect.objectContaining({ key: "boost" })]) } });

    const hash = await tablesHash();
    expect(await apply(document)).toMatchObject({ applied: false, changes: [] });
    expect(await tablesHash()).toBe(hash);
  });

  it("writes nothing on a dry run, and says what it would change and what the catalog would be", async () => {
    const document = await exported();
    document.plans = document.plans.filter((plan) => plan.key !== "boost");
    const before = await tablesHash();
    const dry = await apply(document, { dry: true, archive: true });
    expect(dry.applied).toBe(false);
    expect(dry.changes).toEqual([{ action: "ARCHIVE", kind: "PLAN", key: "boost", fields: [] }]);
    expect((dry.catalog as { plans: { key: string }[] }).plans.map((plan) => plan.key)).toEqual(["team"]);
    expect(await tablesHash()).toBe(before);
    // For real: the add-on is archived, kept, and no longer exported.
    expect((await apply(document, { archive: true })).applied).toBe(true);
    expect(ok(await t.gql(`{ plan(key: "boost") { status } }`)).plan.status).toBe("ARCHIVED");
    expect((await exported()).plans.map((plan) => plan.key)).toEqual(["team"]);
  });

  it("refuses a bad document whole, naming the path, and writes nothing", async () => {
    const document = await exported();
    document.features.push({ key: "fresh", name: "Fresh", type: "BOOLEAN" });
    document.plans.push({ key: "a", name: "A" }, { key: "b", name: "B", entitlements: [{ featureKey: "seats", usageLimit: -1 }] });
    const before = await tablesHash();
    const audited = () => t.database.prisma.auditEntry.count({ where: { projectId: t.projectId, operation: "applyCatalog" } });
    const entries = await audited();
    const refusal = async (catalog: unknown) => (await t.gql(APPLY, { c: catalog })).errors?.[0]?.extensions;
    expect(await refusal(document)).toMatchObject({ code: "VALIDATION_ERROR", field: "plans.2.entitlements.0.usageLimit" });
    expect(await refusal({ features: [{ key: "seats", name: "Seats", type: "BOOLEAN" }] })).toMatchObject({ field: "features.0.type" });
    expect(await refusal({ plans: [{ key: "x", name: "X", entitlements: [{ featureKey: "nope", isEnabled: true }] }] })).toMatchObject({
      field: "plans.0.entitlements.0.featureKey",
    });
    expect(await refusal({ features: [{ key: "no spaces", name: "X", type: "BOOLEAN" }] })).toMatchObject({ field: "features.0.key" });
    expect(await refusal({ plans: [], extra: true })).toMatchObject({ code: "VALIDATION_ERROR" });
    expect(await tablesHash()).toBe(before);
    expect(await audited()).toBe(entries); // a refused apply leaves no audit entry either
  });

  it("ships docs/catalog.schema.json as the format's JSON Schema, which accepts an export and refuses a bad document", async () => {
    const shipped = JSON.parse(readFileSync(join(projectRoot, "docs/catalog.schema.json"), "utf8"));
    expect(shipped).toEqual(catalogJsonSchema());
    // Checked by a JSON Schema validator of its own, as an editor or a CI step would.
    const validate = new Ajv2020({ strict: false }).compile(shipped);
    expect(validate(await exported())).toBe(true);
    expect(validate({ plans: [{ key: "x", name: "X", entitlements: [{ featureKey: "seats", usageLimit: "ten" }] }] })).toBe(false);
    expect(validate({ features: [{ key: "no spaces", name: "X", type: "BOOLEAN" }] })).toBe(false);
  });

  it("is driven from a shell: export, a readable plan, then apply", async () => {
    const run = promisify(execFile);
    const env = { ...process.env, ENTITLEMENTS_URL: url, ENTITLEMENTS_API_KEY: t.adminKey };
    const cli = (...args: string[]) => run(process.execPath, ["--import", "tsx", "src/cli/catalog.ts", ...args], { cwd: projectRoot, env });
    const dir = mkdtempSync(join(tmpdir(), "catalog-"));
    const file = join(dir, "catalog.json");
    await cli("export", file);
    const document = JSON.parse(readFileSync(file, "utf8"));
    expect(document).toEqual(await exported());
    document.plans[0].description = "for teams";
    document.features.push({ key: "audit-trail", name: "Audit trail", type: "BOOLEAN" });
    writeFileSync(file, JSON.stringify(document));
    const plan = await cli("plan", file);
    expect(plan.stdout).toBe(
      "+ feature audit-trail: type, name\n~ plan team: description\n\nPlan: 1 to create, 1 to change, 0 to archive.\n",
    );
    expect(ok(await t.gql(`{ plan(key: "team") { description } }`)).plan.description).toBeNull();
    const applied = await cli("apply", file);
    expect(applied.stdout).toContain("Applied 2 changes.");
    expect(ok(await t.gql(`{ plan(key: "team") { description } }`)).plan.description).toBe("for teams");
    expect((await cli("plan", file)).stdout).toBe("No changes: the catalog already matches the document.\n");
  });
});
