// The operator's command: creates a project against the configured database and prints its
// new ADMIN key alone on the last line.  npm run --silent project:create -- <name>
import { loadConfig } from "../config.ts";
import { configuredTarget, openDatabase } from "../db/client.ts";
import { applyMigrations } from "../db/migrations.ts";
import { createProjectWithAdminKey } from "../auth/projects.ts";

const name = process.argv.slice(2).join(" ").trim();
if (!name || name.length > 200) {
  console.error("usage: npm run --silent project:create -- <name>   (a name of 1 to 200 characters)");
  process.exit(2);
}
const config = loadConfig();
const database = openDatabase(configuredTarget(config));
try {
  await applyMigrations(database);
  const project = await createProjectWithAdminKey(database.prisma, name);
  console.log(`Created project "${project.name}" (${project.projectId}). Its ADMIN API key, shown only now:`);
  console.log(project.secret);
} catch (error) {
  console.error(`project:create failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
// The WebAssembly engine may leave a timer behind; a command ends when its work does.
process.exit(process.exitCode ?? 0);
