// One migrated embedded database for the api:pglite run, made once and copied by every
// test app: a new PGlite runs initdb (about 5 s here) and a copy loads in about 1 s.
// The migrations are applied the real way, by the schema engine; test/db/migrations.test.ts
// covers applying them to a fresh database on its own.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A tarball of a migrated PGlite data directory (PGlite's dumpDataDir). */
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const instance = new PGlite();
  const database = openDatabase({ kind: "pglite", instance });
  const directory = mkdtempSync(join(tmpdir(), "entitlements-pglite-template-"));
  const file = join(directory, "migrated.tar");
  try {
    await applyMigrations(database);
    writeFileSync(file, Buffer.from(await (await instance.dumpDataDir("none")).arrayBuffer()));
  } finally {
    await database.close();
    await instance.close();
  }
  project.provide("pgliteTemplate", file);
  return () => rmSync(directory, { recursive: true, force: true });
}
