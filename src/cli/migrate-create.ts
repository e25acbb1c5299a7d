// npm run migrate:create -- <name>: writes the next migration from prisma/schema.prisma.
import { createMigration } from "../db/migrations.ts";

const name = process.argv[2] ?? "";
if (!/^[a-z0-9][a-z0-9_]{0,60}$/.test(name)) {
  console.error("usage: npm run migrate:create -- <name>   (lower-case letters, digits and _, e.g. add_grants)");
  process.exit(2);
}
try {
  const dir = await createMigration(name);
  console.log(dir ? `wrote ${dir}/migration.sql` : "schema.prisma and the migrations agree; nothing to create");
} catch (error) {
  console.error(`migrate:create failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
// The WebAssembly engine may leave a timer behind; a command ends when its work does.
process.exit(process.exitCode ?? 0);
