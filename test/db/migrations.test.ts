// prisma/schema.prisma and prisma/migrations must agree, and migrations apply on both databases.
import { execFileSync } from "node:child_process";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import {
  applyMigrations,
  diffSchemaAgainstMigrations,
  isEmptyMigration,
  pendingMigrations,
  readMigrations,
  readSchema,
} from "../../src/db/migrations.ts";
import { createTemporaryDatabase } from "../helpers/postgres.ts";
import { projectRoot } from "../helpers/process.ts";

const migrationNames = readMigrations().migrationDirectories.map((entry) => entry.path);

describe("migration drift", () => {
  it("schema.prisma and prisma/migrations agree (else: npm run migrate:create -- <name>)", async () => {
    const sql = await diffSchemaAgainstMigrations();
    expect(isEmptyMigration(sql), `schema.prisma has changes no migration holds:\n${sql}`).toBe(true);
  });

  it("notices a schema change that no migration holds (positive control)", async () => {
    const changed = `${readSchema()}\nmodel DriftProbe {\n  id String @id\n}\n`;
    const sql = await diffSchemaAgainstMigrations(changed);
    expect(isEmptyMigration(sql)).toBe(false);
    expect(sql).toMatch(/CREATE TABLE "DriftProbe"/);
  });
});

describe("applying migrations on the embedded database", () => {
  it("creates every table, records every migration, applies nothing twice, and serves the client", async () => {
    const database = openDatabase({ kind: "pglite", instance: new PGlite() });
    try {
      expect(await pendingMigrations(database.adapterFactory)).toEqual(migrationNames);
      expect((await applyMigrations(database)).applied).toEqual(migrationNames);
      expect((await applyMigrations(database)).applied).toEqual([]);
      expect(await pendingMigrations(database.adapterFactory)).toEqual([]);
      const project = await database.prisma.project.create({ data: { name: "migrated" } });
      expect(await database.prisma.project.findUnique({ where: { id: project.id } })).toMatchObject({ name: "migrated" });
    } finally {
      await database.close();
    }
  });
});

describe("applying migrations on PostgreSQL", () => {
  let temporary: Awaited<ReturnType<typeof createTemporaryDatabase>>;
  beforeAll(async () => {
    temporary = await createTemporaryDatabase("entitlements_migrate");
  });
  afterAll(() => temporary.drop());

  // Through the operator's command, in its own process, as it is run for real.
  const deploy = () =>
    execFileSync("npm", ["run", "--silent", "migrate:deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: temporary.url },
      encoding: "utf8",
    }).trim();

  it("npm run migrate:deploy applies every migration to a fresh database once", async () => {
    const database = openDatabase({ kind: "postgres", url: temporary.url });
    try {
      expect(await pendingMigrations(database.adapterFactory)).toEqual(migrationNames);
      expect(deploy()).toBe(`applied: ${migrationNames.join(", ")}`);
      expect(deploy()).toBe("the database is up to date");
      expect(await pendingMigrations(database.adapterFactory)).toEqual([]);
      expect(await database.prisma.customer.count()).toBe(0);
    } finally {
      await database.close();
    }
  });
});
