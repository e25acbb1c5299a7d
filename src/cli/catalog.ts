// Catalog as code from a shell (docs/rules.md §9), against a running server:
//   npm run --silent catalog -- export [FILE]            the catalog as a document (stdout without FILE)
//   npm run --silent catalog -- plan FILE [--archive-missing]   what applying FILE would change
//   npm run --silent catalog -- apply FILE [--archive-missing]  the same, then applies it
//   npm run --silent catalog -- schema                   the document's JSON Schema (docs/catalog.schema.json)
// ENTITLEMENTS_URL (default http://127.0.0.1:$PORT/graphql, PORT 4000) and ENTITLEMENTS_API_KEY
// (a WRITE key for apply) say where and as whom.
import { readFileSync, writeFileSync } from "node:fs";
import type { CatalogChange } from "../domain/catalog-document.ts";
import { catalogJsonSchema } from "../services/catalog-format.ts";

const USAGE = "usage: npm run --silent catalog -- export [FILE] | plan FILE | apply FILE [--archive-missing] | schema";

const SIGNS: Record<CatalogChange["action"], string> = { CREATE: "+", UPDATE: "~", ARCHIVE: "-" };
const KINDS: Record<CatalogChange["kind"], string> = { FEATURE: "feature", PLAN: "plan", PLAN_ENTITLEMENT: "plan entitlement" };

/** A plan a person reads, one change a line, then the totals (like a Terraform plan). */
export function formatPlan(changes: readonly CatalogChange[]): string {
  if (changes.length === 0) return "No changes: the catalog already matches the document.\n";
  const lines = changes.map((change) => {
    const what = `${SIGNS[change.action]} ${KINDS[change.kind]} ${change.key}`;
    if (change.action === "ARCHIVE") return `${what} (${change.kind === "PLAN_ENTITLEMENT" ? "removed" : "archived"})`;
    return change.fields.length > 0 ? `${what}: ${change.fields.join(", ")}` : what;
  });
  const count = (action: CatalogChange["action"]) => changes.filter((change) => change.action === action).length;
  return `${lines.join("\n")}\n\nPlan: ${count("CREATE")} to create, ${count("UPDATE")} to change, ${count("ARCHIVE")} to archive.\n`;
}

async function call(query: string, variables: Record<string, unknown>) {
  const url = process.env.ENTITLEMENTS_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}/graphql`;
  const key = process.env.ENTITLEMENTS_API_KEY;
  if (!key) throw new Error("set ENTITLEMENTS_API_KEY to an API key of the project");
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, unknown>;
    errors?: { message: string; extensions?: { field?: string } }[];
  };
  if (body.errors?.length) throw new Error(body.errors.map((error) => error.message).join("\n"));
  return body.data as Record<string, unknown>;
}

const APPLY = `mutation ($catalog: JSON!, $dryRun: Boolean, $archiveMissing: Boolean) {
  applyCatalog(catalog: $catalog, dryRun: $dryRun, archiveMissing: $archiveMissing) { applied changes { action kind key fields } }
}`;

async function main(args: string[]): Promise<number> {
  const [command, file] = args;
  const archiveMissing = args.includes("--archive-missing");
  if (command === "schema") {
    process.stdout.write(`${JSON.stringify(catalogJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (command === "export") {
    const { exportCatalog } = await call("{ exportCatalog }", {});
    const text = `${JSON.stringify(exportCatalog, null, 2)}\n`;
    if (file) writeFileSync(file, text);
    else process.stdout.write(text);
    return 0;
  }
  if ((command === "plan" || command === "apply") && file) {
    const catalog = JSON.parse(readFileSync(file, "utf8")) as unknown;
    const planned = (await call(APPLY, { catalog, dryRun: true, archiveMissing })).applyCatalog as { changes: CatalogChange[] };
    process.stdout.write(formatPlan(planned.changes));
    if (command === "plan" || planned.changes.length === 0) return 0;
    const applied = (await call(APPLY, { catalog, dryRun: false, archiveMissing })).applyCatalog as {
      applied: boolean;
      changes: CatalogChange[];
    };
    process.stdout.write(applied.applied ? `Applied ${applied.changes.length} changes.\n` : "Nothing applied.\n");
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`catalog: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
