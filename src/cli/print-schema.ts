// Prints the schema's SDL to schema.graphql (or to stdout with --stdout).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printedSchema } from "../schema/index.ts";

const target = fileURLToPath(new URL("../../schema.graphql", import.meta.url));
if (process.argv.includes("--stdout")) process.stdout.write(printedSchema());
else {
  writeFileSync(target, printedSchema());
  console.log(`wrote ${target}`);
}
