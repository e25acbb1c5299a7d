// The key a start ensures: BOOTSTRAP_API_KEY's project, or a first-start key printed once.
import { PGlite } from "@electric-sql/pglite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { ensureStartupKey } from "../../src/auth/projects.ts";
import { authenticateApiKey, hashApiKey } from "../../src/auth/api-keys.ts";

let database: Database;
beforeEach(async () => {
  database = openDatabase({ kind: "pglite", instance: new PGlite() });
  await applyMigrations(database);
});
afterEach(() => database.close());

/** Whether the stored API keys hold `secret` in the clear, and whether they hold its hash. */
async function stored(secret: string) {
  const rows = JSON.stringify(await database.prisma.apiKey.findMany());
  return { inTheClear: rows.includes(secret), hashed: rows.includes(hashApiKey(secret)) };
}

describe("ensureStartupKey", () => {
  it("creates one default project on an empty database, and nothing on the next start", async () => {
    const first = await ensureStartupKey(database.prisma, undefined);
    expect(first.kind).toBe("first-start");
    const secret = first.kind === "first-start" ? first.secret : "";
    expect((await authenticateApiKey(database.prisma, secret))?.scopes.has("ADMIN")).toBe(true);
    expect(await stored(secret)).toEqual({ inTheClear: false, hashed: true });
    expect(await ensureStartupKey(database.prisma, undefined)).toEqual({ kind: "none" });
    expect(await database.prisma.project.count()).toBe(1);
  });

  it("makes BOOTSTRAP_API_KEY an ADMIN key of one project, even when two instances start at once", async () => {
    const key = "ent_bootstrap-0123456789abcdef";
    const [a, b] = await Promise.all([ensureStartupKey(database.prisma, key), ensureStartupKey(database.prisma, key)]);
    expect(a.kind === "bootstrap" && b.kind === "bootstrap" && a.projectId === b.projectId).toBe(true);
    expect(await database.prisma.project.count()).toBe(1);
    const caller = await authenticateApiKey(database.prisma, key);
    expect([...(caller?.scopes ?? [])].sort()).toEqual(["ADMIN", "READ", "WRITE"]);
    // The operator's own key, from the environment, is kept only as its hash too.
    expect(await stored(key)).toEqual({ inTheClear: false, hashed: true });
    expect(await ensureStartupKey(database.prisma, key)).toMatchObject({ kind: "bootstrap", created: false });
  });
});
