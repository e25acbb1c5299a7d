// Writes a migrated PGlite data directory, dumped, to the file named by its argument.
// Run as a process of its own by pglite-global-setup.ts: migrating from vitest's main
// process, beside the PostgreSQL run's setup doing the same, failed inside the schema
// engine's WebAssembly glue (invalid UTF-8), even one after the other; in a plain process
// both work.
import { writeFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { openDatabase } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: make-pglite-template.ts <file>");
const instance = new PGlite();
const database = openDatabase({ kind: "pglite", instance });
await applyMigrations(database);
writeFileSync(file, Buffer.from(await (await instance.dumpDataDir("none")).arrayBuffer()));
await database.close();
await instance.close();
process.exit(0); // the schema engine leaves a timer behind
