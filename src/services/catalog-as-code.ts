// Catalog as code (docs/rules.md §9): exportCatalog prints the catalog as a document;
// applyCatalog makes the stored catalog match one in a single transaction — every change, its
// event jobs (as setPlanEntitlement's and updateFeature's) and its audit entry commit
// together, or nothing does. The format and the diff are src/domain/catalog-document.ts's.
import {
  catalogAfter,
  catalogChanges,
  checkDocument,
  documentOf,
  type CatalogChange,
  type CatalogDocument,
  type NormalFeature,
  type NormalPlan,
  type StoredCatalog,
} from "../domain/catalog-document.ts";
import type { EntitlementValue, FeatureLevel } from "../domain/entitlement-value.ts";
import { validationFailed } from "../errors.ts";
import type { Feature, Prisma } from "../generated/prisma/client.ts";
import { storedValue } from "../loaders/customer-state.ts";
import { auditIn } from "./audit.ts";
import { parseCatalogDocument } from "./catalog-format.ts";
import type { Transaction } from "./changes.ts";
import { queueEventJob, type EventJobInput } from "./event-jobs.ts";
import { invalidatingWrite, type ProjectScope } from "./scope.ts";

/** The stored catalog in normal form, with the rows behind it by key. */
async function readCatalog(tx: Transaction, projectId: string) {
  const [features, plans] = await Promise.all([
    tx.feature.findMany({ where: { projectId }, orderBy: { key: "asc" } }),
    tx.plan.findMany({ where: { projectId }, orderBy: { key: "asc" }, include: { entitlements: { where: { removedAt: null } } } }),
  ]);
  const keyOfFeature = new Map(features.map((feature) => [feature.id, feature.key]));
  const stored: StoredCatalog = {
    features: features.map((feature) => ({
      key: feature.key,
      name: feature.name,
      description: feature.description,
      type: feature.type,
      unitSingular: feature.unitSingular,
      unitPlural: feature.unitPlural,
      levels: (feature.levels as unknown as FeatureLevel[] | null) ?? [],
      alertThresholds: feature.alertThresholds ?? [],
      metadata: (feature.metadata as NormalFeature["metadata"]) ?? null,
      archived: feature.status === "ARCHIVED",
    })),
    plans: plans.map((plan) => ({
      key: plan.key,
      name: plan.name,
      description: plan.description,
      kind: plan.kind,
      metadata: (plan.metadata as NormalPlan["metadata"]) ?? null,
      entitlements: new Map(
        plan.entitlements
          .map((row) => [keyOfFeature.get(row.featureId) ?? "", storedValue(row)] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
      archived: plan.status === "ARCHIVED",
    })),
  };
  return {
    stored,
    features: new Map(features.map((feature) => [feature.key, feature])),
    plans: new Map(plans.map((plan) => [plan.key, plan])),
  };
}

/** The project's catalog (active features, plans and add-ons, and their entitlements) as a document. */
export async function exportCatalog(scope: ProjectScope): Promise<CatalogDocument> {
  return documentOf((await readCatalog(scope.prisma as unknown as Transaction, scope.projectId)).stored);
}

export interface CatalogApplyResult {
  changes: CatalogChange[];
  applied: boolean;
  catalog: CatalogDocument;
}

const asJson = (value: unknown) => (value === null ? undefined : (value as Prisma.InputJsonValue));
const featureData = (feature: NormalFeature) => ({
  name: feature.name,
  description: feature.description,
  unitSingular: feature.unitSingular,
  unitPlural: feature.unitPlural,
  levels: feature.levels as unknown as Prisma.InputJsonValue,
  alertThresholds: feature.alertThresholds,
  metadata: asJson(feature.metadata),
});

/**
 * Makes the stored catalog match `input` (with `archiveMissing`, archiving what it leaves
 * out), or with `dryRun` only says what that would change. A document that does not check is
 * refused whole, every problem named by its path.
 */
export async function applyCatalog(
  scope: ProjectScope,
  input: unknown,
  { dryRun = false, archiveMissing = false }: { dryRun?: boolean | null; archiveMissing?: boolean | null },
): Promise<CatalogApplyResult> {
  const { projectId } = scope;
  let queued = false;
  const run = () =>
    scope.prisma.$transaction(async (tx) => {
      // One apply at a time per project: each reads the catalog the previous one left.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`catalog-apply:${projectId}`}, 0))`;
      const { stored, features, plans } = await readCatalog(tx, projectId);
      const format = parseCatalogDocument(input);
      if (!format.ok) throw validationFailed(format.problems);
      const checked = checkDocument(format.document, stored);
      if (!checked.ok) throw validationFailed(checked.problems);
      const changes = catalogChanges(stored, checked, Boolean(archiveMissing));
      const catalog = documentOf(catalogAfter(stored, checked, Boolean(archiveMissing)));
      if (dryRun || changes.length === 0) return { changes, applied: false, catalog };

      const jobs: EventJobInput[] = [];
      const featureIds = new Map([...features].map(([key, row]) => [key, row.id]));
      const planIds = new Map([...plans].map(([key, row]) => [key, row.id]));
      const featureOf = (key: string) => checked.features.find((feature) => feature.key === key) as NormalFeature;
      const planOf = (key: string) => checked.plans.find((plan) => plan.key === key) as NormalPlan;
      const asJsonRow = (row: Feature) => JSON.parse(JSON.stringify(row));
      for (const change of changes) {
        const [planKey = "", featureKey = ""] = change.key.split("/");
        if (change.kind === "FEATURE") {
          if (change.action === "CREATE") {
            const feature = featureOf(change.key);
            const row = await tx.feature.create({ data: { projectId, key: feature.key, type: feature.type, ...featureData(feature) } });
            featureIds.set(row.key, row.id);
          } else {
            const before = features.get(change.key) as Feature;
            const data =
              change.action === "ARCHIVE"
                ? { status: "ARCHIVED" as const }
                : { ...featureData(featureOf(change.key)), status: "ACTIVE" as const };
            const after = await tx.feature.update({ where: { id: before.id }, data });
            // Levels rank static values: the customers whose ranking changes are told, as updateFeature tells them.
            if (change.fields.includes("levels"))
              jobs.push({ kind: "feature", projectId, before: asJsonRow(before), after: asJsonRow(after) });
          }
        } else if (change.kind === "PLAN") {
          if (change.action === "CREATE") {
            const plan = planOf(change.key);
            const row = await tx.plan.create({
              data: {
                projectId,
                key: plan.key,
                kind: plan.kind,
                name: plan.name,
                description: plan.description,
                metadata: asJson(plan.metadata),
              },
            });
            planIds.set(row.key, row.id);
          } else {
            const id = plans.get(change.key)?.id as string;
            const plan = change.action === "ARCHIVE" ? null : planOf(change.key);
            await tx.plan.update({
              where: { id },
              data: plan
                ? { name: plan.name, description: plan.description, metadata: asJson(plan.metadata), status: "ACTIVE" }
                : { status: "ARCHIVED" },
            });
          }
        } else {
          const planId = planIds.get(planKey) as string;
          const featureId = featureIds.get(featureKey) as string;
          const before: EntitlementValue | null = stored.plans.find((plan) => plan.key === planKey)?.entitlements.get(featureKey) ?? null;
          const after = change.action === "ARCHIVE" ? null : (planOf(planKey).entitlements.get(featureKey) as EntitlementValue);
          const where = { planId_featureId: { planId, featureId } };
          if (after)
            await tx.planEntitlement.upsert({ where, create: { planId, featureId, ...after }, update: { ...after, removedAt: null } });
          else await tx.planEntitlement.update({ where, data: { removedAt: new Date() } });
          jobs.push({ kind: "plan-entitlement", projectId, planId, featureId, before, after });
        }
      }
      for (const job of jobs) await queueEventJob(tx, job);
      queued = jobs.length > 0;
      await auditIn(tx, null);
      return { changes, applied: true, catalog };
    });
  const result = dryRun ? await run() : await invalidatingWrite(scope, { catalog: true }, run);
  if (queued) scope.events.jobQueued();
  return result;
}
