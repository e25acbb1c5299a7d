// Previews (docs/rules.md §9): what an edit would do, evaluated exactly as the real edit's
// events are (the same customers, the same before and after states), writing nothing.
// A catalog edit's impact pages through its customers once, with loaders of each page's
// own, keeping only who is affected and how: memory holds one page's states however many
// customers the edit reaches.
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
import type { Prisma } from "../generated/prisma/client.ts";
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
  /** The impacts on these customers, evaluated together with loaders of their own. */
  const impactsOf = async (customers: { id: string }[]) => {
    const loaders = createLoaders(scope.prisma, scope.projectId, scope.cache);
    const impacts = await Promise.all(
      customers.map(async ({ id: customerId }) => {
        const { state } = await loaders.customerState.load(customerId);
        const [before, after] = await Promise.all([
          observeCustomer(loaders, customerId, at, { state: previous(state) }),
          observeCustomer(loaders, customerId, at, { state: next(state) }),
        ]);
        const [diff] = diffsBetween(customerId, at, before, after, edit.featureKey);
        return diff ? { customerId, diff } : null;
      }),
    );
    return impacts.filter((impact): impact is CustomerImpact => impact !== null);
  };
  const reached = (extra: Prisma.CustomerWhereInput = {}) => ({ projectId: scope.projectId, ...where, ...extra });
  // One pass over every customer the edit reaches, a page at a time, keeping only who is
  // affected and how: the counts, and what a page of customers is chosen from. The page's
  // own customers are then evaluated again, in full.
  let summary: Promise<{ customerId: string; effects: ImpactEffect[] }[]> | undefined;
  const summarize = () =>
    (summary ??= (async () => {
      const affected: { customerId: string; effects: ImpactEffect[] }[] = [];
      for (let cursor: string | null = null; ; ) {
        const page: { id: string }[] = await scope.prisma.customer.findMany({
          where: reached(cursor ? { id: { gt: cursor } } : {}),
          select: { id: true },
          orderBy: { id: "asc" },
          take: IMPACT_PAGE_SIZE,
        });
        if (page.length === 0) return affected;
        for (const impact of await impactsOf(page)) affected.push({ customerId: impact.customerId, effects: impact.diff.effects });
        cursor = page.at(-1)?.id ?? null;
      }
    })());
  return {
    featureKey: edit.featureKey,
    counts: async () => {
      const affected = await summarize();
      const having = (effect: ImpactEffect) => affected.filter((impact) => impact.effects.includes(effect)).length;
      return {
        affectedCustomers: affected.length,
        gainingAccess: having("GAINS_ACCESS"),
        losingAccess: having("LOSES_ACCESS"),
        nowOverLimit: having("NOW_OVER_LIMIT"),
      };
    },
    page: async ({ effects, afterId, beforeId, first, last }) => {
      const matching = (await summarize()).filter(
        (impact) => !effects?.length || effects.some((effect) => impact.effects.includes(effect)),
      );
      // The window between the cursors, then its first `first` or last `last`.
      const start = afterId ? matching.findIndex(({ customerId }) => customerId > afterId) : 0;
      const end = beforeId ? matching.findIndex(({ customerId }) => customerId >= beforeId) : -1;
      const from = start === -1 ? matching.length : start;
      let [low, high] = [from, end === -1 ? matching.length : Math.max(from, end)];
      if (first !== null && first !== undefined) high = Math.min(high, low + first);
      if (last !== null && last !== undefined) low = Math.max(low, high - last);
      const ids = matching.slice(low, high).map(({ customerId }) => customerId);
      const full =
        ids.length > 0
          ? await impactsOf(await scope.prisma.customer.findMany({ where: reached({ id: { in: ids } }), select: { id: true } }))
          : [];
      const byId = new Map(full.map((impact) => [impact.customerId, impact]));
      return {
        customers: ids.flatMap((id) => byId.get(id) ?? []),
        totalCount: matching.length,
        hasNextPage: high < matching.length,
        hasPreviousPage: low > 0,
      };
    },
  };
}
