// Previews (docs/rules.md §9): what an edit would do, evaluated exactly as the real edit's
// events are (the same customers, the same before and after states), writing nothing.
// A catalog edit's impact pages through its customers with loaders of each page's own, so
// that memory stays bounded however many customers it reaches.
import { changedFeatureKeys } from "../domain/changes.ts";
import type { EntitlementValueInput } from "../domain/entitlement-value.ts";
import type { CustomerState } from "../domain/entitlements.ts";
import { impactEffects, type ImpactEffect } from "../domain/impact.ts";
import { phasesAfter } from "../domain/phases.ts";
import { createLoaders } from "../loaders/index.ts";
import { plannedPlanEntitlementEdit } from "./catalog.ts";
import type { Transaction } from "./changes.ts";
import { observeCustomer, type EvaluatedEntitlement, type Observation } from "./entitlements.ts";
import { planEntitlementEdit } from "./event-jobs.ts";
import type { ProjectScope } from "./scope.ts";
import { checkedPlanChange, type PlanChangeInput } from "./subscriptions.ts";

export interface EntitlementDiff {
  featureKey: string;
  effects: ImpactEffect[];
  before: EvaluatedEntitlement | null;
  after: EvaluatedEntitlement | null;
}

/** One observed entitlement as the GraphQL types read it (its usage and credits as observed). */
function asEvaluated(customerId: string, at: Date, observation: Observation, featureKey: string): EvaluatedEntitlement | null {
  const found = observation.entitlements.find(({ entitlement }) => entitlement.feature.key === featureKey);
  if (!found) return null;
  return {
    customerId,
    at,
    entitlement: found.entitlement,
    usedIfLoaded: found.used,
    used: () => Promise.resolve(found.used),
    creditsIfLoaded: found.credits,
    credits: () => Promise.resolve(found.credits),
  };
}

/** The features that differ from `before` to `after` (only `featureKey`, when given), each with its effects. */
function diffsBetween(customerId: string, at: Date, before: Observation, after: Observation, featureKey?: string): EntitlementDiff[] {
  return changedFeatureKeys(before.snapshot, after.snapshot)
    .filter((key) => featureKey === undefined || key === featureKey)
    .map((key) => {
      const afterEntitlement = asEvaluated(customerId, at, after, key);
      return {
        featureKey: key,
        effects: impactEffects(before.snapshot.get(key), after.snapshot.get(key), afterEntitlement?.usedIfLoaded ?? 0),
        before: asEvaluated(customerId, at, before, key),
        after: afterEntitlement,
      };
    });
}

export interface EntitlementPreview {
  customerId: string;
  at: Date;
  diffs: EntitlementDiff[];
  after: EvaluatedEntitlement[];
}

/** What changeSubscriptionPlan with this input would change for the subscription's customer, at the change's instant. */
export async function previewPlanChange(scope: ProjectScope, input: PlanChangeInput): Promise<EntitlementPreview> {
  const { subscription, at, change } = await checkedPlanChange(scope, input);
  const { customerId } = subscription;
  const { state } = await scope.loaders.customerState.load(customerId);
  const newPlan = change.newPhase.planId;
  const next: CustomerState = {
    ...state,
    subscriptions: state.subscriptions.map((row) =>
      row.id === subscription.id ? { ...row, phases: phasesAfter(row.phases, change, "previewed-phase") } : row,
    ),
    planEntitlements: [
      ...state.planEntitlements.filter((row) => row.planId !== newPlan),
      ...(await scope.loaders.planEntitlementRows(newPlan)),
    ],
  };
  const [before, after] = await Promise.all([
    observeCustomer(scope.loaders, customerId, at),
    observeCustomer(scope.loaders, customerId, at, { state: next }),
  ]);
  return {
    customerId,
    at,
    diffs: diffsBetween(customerId, at, before, after),
    after: after.entitlements.map(({ entitlement }) => asEvaluated(customerId, at, after, entitlement.feature.key) as EvaluatedEntitlement),
  };
}

export interface CustomerImpact {
  customerId: string;
  diff: EntitlementDiff;
}

interface ImpactCounts {
  affectedCustomers: number;
  gainingAccess: number;
  losingAccess: number;
  nowOverLimit: number;
}

/** A page of the customers an edit affects, in customer id order, as a connection reads it. */
interface ImpactPage {
  customers: CustomerImpact[];
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

interface ImpactWindow {
  effects?: readonly ImpactEffect[] | null;
  /** Customer ids the page starts after / ends before. */
  afterId?: string | null;
  beforeId?: string | null;
  first?: number | null;
  last?: number | null;
}

export interface CatalogImpact {
  featureKey: string;
  counts(): Promise<ImpactCounts>;
  page(window: ImpactWindow): Promise<ImpactPage>;
}

/** Customers one page of the evaluation reads (and then lets go of). */
const IMPACT_PAGE_SIZE = 250;

/** What setPlanEntitlement (or removePlanEntitlement, with `remove`) would do to every customer it reaches, now. */
export async function previewPlanEntitlementEdit(
  scope: ProjectScope,
  input: Partial<EntitlementValueInput> & { planId: string; featureKey: string },
  remove: boolean,
): Promise<CatalogImpact> {
  const edit = await plannedPlanEntitlementEdit(scope, input, remove);
  // The customers and states the real edit's job compares (src/services/event-jobs.ts).
  const { where, previous, next } = await planEntitlementEdit(scope.prisma as unknown as Transaction, {
    kind: "plan-entitlement",
    projectId: scope.projectId,
    ...edit,
  });
  const at = new Date();
  /** Calls `visit` with each affected customer's diff, in customer id order, a page at a time. */
  const eachImpact = async (visit: (impact: CustomerImpact) => boolean | undefined) => {
    for (let cursor: string | null = null; ; ) {
      const page: { id: string }[] = await scope.prisma.customer.findMany({
        where: { projectId: scope.projectId, ...where, ...(cursor ? { id: { gt: cursor } } : {}) },
        select: { id: true },
        orderBy: { id: "asc" },
        take: IMPACT_PAGE_SIZE,
      });
      if (page.length === 0) return;
      const loaders = createLoaders(scope.prisma, scope.projectId, scope.cache);
      const impacts = await Promise.all(
        page.map(async ({ id: customerId }) => {
          const { state } = await loaders.customerState.load(customerId);
          const [before, after] = await Promise.all([
            observeCustomer(loaders, customerId, at, { state: previous(state) }),
            observeCustomer(loaders, customerId, at, { state: next(state) }),
          ]);
          const [diff] = diffsBetween(customerId, at, before, after, edit.featureKey);
          return diff ? { customerId, diff } : null;
        }),
      );
      for (const impact of impacts) if (impact && visit(impact) === false) return;
      cursor = page.at(-1)?.id ?? null;
    }
  };
  let counted: Promise<ImpactCounts> | undefined;
  return {
    featureKey: edit.featureKey,
    counts: () =>
      (counted ??= (async () => {
        const counts = { affectedCustomers: 0, gainingAccess: 0, losingAccess: 0, nowOverLimit: 0 };
        await eachImpact(({ diff }) => {
          counts.affectedCustomers++;
          if (diff.effects.includes("GAINS_ACCESS")) counts.gainingAccess++;
          if (diff.effects.includes("LOSES_ACCESS")) counts.losingAccess++;
          if (diff.effects.includes("NOW_OVER_LIMIT")) counts.nowOverLimit++;
          return true;
        });
        return counts;
      })()),
    page: async ({ effects, afterId, beforeId, first, last }) => {
      const matching: CustomerImpact[] = [];
      let totalCount = 0;
      let skippedBefore = false;
      let beyond = false;
      await eachImpact((impact) => {
        if (effects?.length && !effects.some((effect) => impact.diff.effects.includes(effect))) return true;
        totalCount++;
        if (afterId && impact.customerId <= afterId) {
          skippedBefore = true;
          return true;
        }
        if (beforeId && impact.customerId >= beforeId) {
          beyond = true;
          return true;
        }
        matching.push(impact);
        // Keep only what the page can show, plus one to know there is more.
        if (last && matching.length > last) {
          matching.shift();
          skippedBefore = true;
        }
        if (first && matching.length > first) {
          matching.pop();
          beyond = true;
        }
        return true;
      });
      return { customers: matching, totalCount, hasNextPage: beyond, hasPreviousPage: skippedBefore };
    },
  };
}
