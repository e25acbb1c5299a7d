// The catalog document's format (docs/rules.md §9), as a zod schema: what applyCatalog checks
// a document against before its rules, and what docs/catalog.schema.json prints.
import { z } from "zod";
import type { CatalogDocument } from "../domain/catalog-document.ts";
import type { FieldProblem } from "../domain/entitlement-value.ts";

const key = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "may hold only letters, digits and _ - . : and must start with a letter or digit");
const text = (max: number) => z.string().min(1).max(max);
const RESET_PERIODS = ["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "HALF_YEARLY", "ANNUAL", "NEVER"] as const;

const featureDocument = z.strictObject({
  key,
  name: text(200),
  description: z.string().max(2000).nullish(),
  type: z.enum(["BOOLEAN", "METERED", "STATIC"]),
  unitSingular: text(50).nullish(),
  unitPlural: text(50).nullish(),
  levels: z
    .array(z.strictObject({ level: z.number().int(), name: text(100), value: text(500), isUnlimited: z.boolean().optional() }))
    .max(50)
    .optional(),
  alertThresholds: z.array(z.number().gt(0).max(1000)).max(10).optional(),
  metadata: z.json().optional(),
});

const entitlementDocument = z.strictObject({
  featureKey: key,
  isEnabled: z.boolean().optional(),
  usageLimit: z.number().nullish(),
  isUnlimited: z.boolean().optional(),
  resetPeriod: z.enum(RESET_PERIODS).nullish(),
  isSoftLimit: z.boolean().optional(),
  staticValue: z.string().nullish(),
});

const planDocument = z.strictObject({
  key,
  name: text(200),
  description: z.string().max(2000).nullish(),
  kind: z.enum(["PLAN", "ADDON"]).optional(),
  metadata: z.json().optional(),
  entitlements: z.array(entitlementDocument).max(1000).optional(),
});

/** The document format applyCatalog takes and exportCatalog gives. */
export const catalogFormat = z.strictObject({
  features: z.array(featureDocument).max(1000).optional(),
  plans: z.array(planDocument).max(1000).optional(),
}) satisfies z.ZodType<CatalogDocument>;

/** The document, or what in its format is wrong, each problem named by its path (`plans.2.entitlements.0.usageLimit`). */
export function parseCatalogDocument(input: unknown): { ok: true; document: CatalogDocument } | { ok: false; problems: FieldProblem[] } {
  const parsed = catalogFormat.safeParse(input);
  if (parsed.success) return { ok: true, document: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join("."), message: issue.message })) };
}

/** The document format as a JSON Schema (what docs/catalog.schema.json holds). */
export const catalogJsonSchema = () => ({
  ...z.toJSONSchema(catalogFormat, { target: "draft-2020-12" }),
  title: "Entitlements catalog",
  description: "The catalog as exportCatalog prints it and applyCatalog takes it: features, plans and add-ons by key, no ids.",
});
