// Catalog as code (docs/rules.md §9): exportCatalog and applyCatalog over the document format
// of src/domain/catalog-document.ts (docs/catalog.schema.json).
import { builder } from "./builder.ts";
import { scopeOf } from "../context.ts";
import type { CatalogChange } from "../domain/catalog-document.ts";
import { applyCatalog, exportCatalog, type CatalogApplyResult } from "../services/catalog-as-code.ts";

const CatalogChangeActionEnum = builder.enumType("CatalogChangeAction", { values: ["CREATE", "UPDATE", "ARCHIVE"] as const });
const CatalogEntityKindEnum = builder.enumType("CatalogEntityKind", { values: ["FEATURE", "PLAN", "PLAN_ENTITLEMENT"] as const });

const CatalogChangeType = builder.objectRef<CatalogChange>("CatalogChange").implement({
  fields: (t) => ({
    action: t.field({ type: CatalogChangeActionEnum, resolve: (change) => change.action }),
    kind: t.field({ type: CatalogEntityKindEnum, resolve: (change) => change.kind }),
    key: t.exposeString("key", { description: "The feature key, the plan key, or `planKey/featureKey`." }),
    fields: t.exposeStringList("fields", { description: "The fields that differ (UPDATE), or are set (CREATE)." }),
  }),
});

const CatalogApplyResultType = builder.objectRef<CatalogApplyResult>("CatalogApplyResult").implement({
  fields: (t) => ({
    changes: t.field({
      type: [CatalogChangeType],
      description: "Every change the document makes against the stored catalog, in the order applied.",
      resolve: (result) => result.changes,
    }),
    applied: t.exposeBoolean("applied", { description: "False for a dry run, or when there was nothing to change." }),
    catalog: t.field({
      type: "JSON",
      description: "The catalog after (or, for a dry run, as it would be), in the document format.",
      resolve: (result) => result.catalog,
    }),
  }),
});

builder.queryField("exportCatalog", (t) =>
  t.field({
    type: "JSON",
    authScopes: { read: true },
    description: "The catalog (features, plans, add-ons, their entitlements) in the document format applyCatalog takes.",
    resolve: (_root, _args, context) => exportCatalog(scopeOf(context)),
  }),
);

builder.mutationField("applyCatalog", (t) =>
  t.field({
    type: CatalogApplyResultType,
    authScopes: { write: true },
    description:
      "Makes the stored catalog match the document (features, plans, add-ons and their entitlements by key) in one transaction; with dryRun, only says what it would change. What the document leaves out is kept, unless `archiveMissing`.",
    args: { catalog: t.arg({ type: "JSON", required: true }), dryRun: t.arg.boolean(), archiveMissing: t.arg.boolean() },
    resolve: (_root, args, context) =>
      applyCatalog(scopeOf(context), args.catalog, { dryRun: args.dryRun, archiveMissing: args.archiveMissing }),
  }),
);
