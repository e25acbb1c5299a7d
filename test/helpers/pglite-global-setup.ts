// One migrated embedded database for the api:pglite run, made once and copied by every
// test app: a new PGlite runs initdb (about 5 s here) and a copy loads in about 1 s.
// The migrations are applied the real way, by the schema engine, in a process of its own
// (make-pglite-template.ts); test/db/migrations.test.ts covers a fresh database on its own.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A tarball of a migrated PGlite data directory (PGlite's dumpDataDir). */
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const directory = mkdtempSync(join(tmpdir(), "entitlements-pglite-template-"));
  const file = join(directory, "migrated.tar");
  const script = fileURLToPath(new URL("make-pglite-template.ts", import.meta.url));
  await promisify(execFile)(process.execPath, ["--import", "tsx", script, file], { cwd: fileURLToPath(new URL("../..", import.meta.url)) });
  project.provide("pgliteTemplate", file);
  return () => rmSync(directory, { recursive: true, force: true });
}
