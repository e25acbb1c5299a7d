// One fresh, migrated PostgreSQL database for the api:postgres run, dropped afterwards.
// Test files share it safely: each works inside projects of its own.
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { createTemporaryDatabase } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const database = await createTemporaryDatabase();
  const db = openDatabase({ kind: "postgres", url: database.url });
  try {
    await applyMigrations(db);
  } finally {
    await db.close();
  }
  project.provide("postgresUrl", database.url);
  return () => database.drop();
}
