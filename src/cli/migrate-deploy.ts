// npm run migrate:deploy: applies pending migrations to the configured database.
import { loadConfig } from "../config.ts";
import { configuredTarget, openDatabase } from "../db/client.ts";
import { applyMigrations } from "../db/migrations.ts";

const database = openDatabase(configuredTarget(loadConfig()));
try {
  const { applied } = await applyMigrations(database);
  console.log(applied.length > 0 ? `applied: ${applied.join(", ")}` : "the database is up to date");
} catch (error) {
  console.error(`migrate:deploy failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
// The WebAssembly engine may leave a timer behind; a command ends when its work does.
process.exit(process.exitCode ?? 0);
