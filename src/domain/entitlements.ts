// A customer's entitlements at an instant (docs/rules.md §3–§5): the sources active at t, their
// precedence, the aggregate per feature, the usage period, access and checks.
// Pure: no GraphQL, no database. The loaders hand it rows; the schema maps what it returns.
import {
  resolveOverrideValue,
  type EntitlementValue,
  type EntitlementValueInput,
  type FeatureLevel,
  type FeatureType,
  type ResetPeriod,
} from "./entitlement-value.ts";
import { phaseAt, type Phase } from "./phases.ts";
import { periodAt, type Period } from "./periods.ts";
import { subscriptionEntitles, type SubscriptionTimes } from "./subscription-status.ts";
import { windowCovers } from "./time.ts";
import { compareCredits, type Credit } from "./credits.ts";

type SourceType = "PLAN" | "ADDON" | "SUBSCRIPTION" | "GRANT";

export interface FeatureInfo {
  id: string;
  key: string;
  type: FeatureType;
  levels: readonly FeatureLevel[];
  /** METERED: percentages of the usage limit announced once per period when reached (docs/rules.md §6). */
  alertThresholds: readonly number[];
}

export interface PlanInfo {
  id: string;
  name: string;
}

export interface PlanEntitlementRow {
  planId: string;
  featureId: string;
  value: EntitlementValue;
}

export interface SubscriptionRow extends SubscriptionTimes {
  id: string;
  billingAnchor: Date;
  phases: readonly Phase[];
  addons: readonly { id: string; addonId: string; quantity: number; startsAt: Date; endsAt: Date | null }[];
  /** Overrides in force (removed ones left out), with only the fields they set. */
  overrides: readonly { id: string; featureId: string; value: EntitlementValueInput }[];
}

export interface GrantRow {
  id: string;
  featureId: string;
  value: EntitlementValue;
  /** CREDIT grants (docs/rules.md §8): the amount given once; null for an ALLOWANCE. */
  amount: number | null;
  priority: number;
  effectiveAt: Date;
  expiresAt: Date | null;
  voidedAt: Date | null;
}

export interface CustomerState {
  subscriptions: readonly SubscriptionRow[];
  grants: readonly GrantRow[];
  /** The plan entitlements of every plan and add-on the subscriptions refer to. */
  planEntitlements: readonly PlanEntitlementRow[];
  plans: ReadonlyMap<string, PlanInfo>;
  features: ReadonlyMap<string, FeatureInfo>;
}

export interface Source extends EntitlementValue {
  featureId: string;
  type: SourceType;
  /** The plan (PLAN, ADDON), override (SUBSCRIPTION) or grant (GRANT) behind the source. */
  entity: { type: "Plan" | "SubscriptionOverride" | "Grant"; id: string };
  entityName: string | null;
  subscriptionId: string | null;
  quantity: number;
  /** Per unit of quantity, as stored. */
  unitUsageLimit: number | null;
  priority: number;
  activeFrom: Date;
  activeTo: Date | null;
  /** Where this source's usage periods are aligned. */
  periodAnchor: Date;
  /** A CREDIT grant's: it adds nothing to the limit, period or softness, only what it holds. */
  credit: Credit | null;
}

export interface Entitlement {
  feature: FeatureInfo;
  isEnabled: boolean;
  usageLimit: number | null;
  isUnlimited: boolean;
  isSoftLimit: boolean;
  resetPeriod: ResetPeriod | null;
  staticValues: string[];
  activeFrom: Date | null;
  activeTo: Date | null;
  /** Best first (docs/rules.md §4 precedence). */
  sources: Source[];
  /** METERED only. */
  period: Period | null;
  /** METERED only: the active CREDIT grants, in burn-down order (docs/rules.md §8). */
  credits: Credit[];
}

export interface EntitlementFilters {
  featureIds?: readonly string[] | null;
  featureKeys?: readonly string[] | null;
  types?: readonly FeatureType[] | null;
  subscriptionIds?: readonly string[] | null;
}

const TYPE_RANK: Record<SourceType, number> = { SUBSCRIPTION: 0, GRANT: 1, PLAN: 2, ADDON: 3 };

/** docs/rules.md §4 precedence, best first: SUBSCRIPTION, GRANT (higher priority first), PLAN, ADDON; then earlier activeFrom, then id. */
function compareSources(a: Source, b: Source): number {
  return (
    TYPE_RANK[a.type] - TYPE_RANK[b.type] ||
    b.priority - a.priority ||
    a.activeFrom.getTime() - b.activeFrom.getTime() ||
    (a.entity.id < b.entity.id ? -1 : a.entity.id > b.entity.id ? 1 : 0)
  );
}

const earliest = (dates: readonly Date[]) => dates.reduce((a, b) => (b.getTime() < a.getTime() ? b : a));
/** The earliest of the given ends; null only when every one is open. */
const firstEnd = (...ends: (Date | null)[]) => {
  const closed = ends.filter((end): end is Date => end !== null);
  return closed.length > 0 ? earliest(closed) : null;
};
const later = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

function contribution(feature: FeatureInfo, value: EntitlementValue, quantity: number): number | null {
  if (feature.type !== "METERED" || value.isUnlimited) return null;
  return (value.usageLimit ?? 0) * quantity;
}

/** Every field written out, in one order: one compact object shape for every source (spreads made them several times larger). */
function makeSource(
  feature: FeatureInfo,
  value: EntitlementValue,
  fields: Omit<Source, keyof EntitlementValue | "unitUsageLimit" | "featureId" | "credit">,
  credit: Credit | null = null,
): Source {
  return {
    featureId: feature.id,
    type: fields.type,
    entity: fields.entity,
    entityName: fields.entityName,
    subscriptionId: fields.subscriptionId,
    quantity: fields.quantity,
    priority: fields.priority,
    activeFrom: fields.activeFrom,
    activeTo: fields.activeTo,
    periodAnchor: fields.periodAnchor,
    credit,
    isEnabled: value.isEnabled,
    usageLimit: contribution(feature, value, fields.quantity),
    unitUsageLimit: value.usageLimit,
    isUnlimited: value.isUnlimited,
    resetPeriod: value.resetPeriod,
    isSoftLimit: value.isSoftLimit,
    staticValue: value.staticValue,
  };
}

/**
 * What a CREDIT grant is as a source, and what its value columns hold: enabled, adding 0 to
 * the limit, with no say in the period or softness.
 */
export const CREDIT_VALUE: EntitlementValue = {
  isEnabled: true,
  usageLimit: 0,
  isUnlimited: false,
  resetPeriod: null,
  isSoftLimit: false,
  staticValue: null,
};

/** A grant is in force from effectiveAt until the first of expiresAt and voidedAt (half-open). */
export function grantInForce(grant: Pick<GrantRow, "effectiveAt" | "expiresAt" | "voidedAt">, t: Date): boolean {
  return windowCovers({ start: grant.effectiveAt, end: firstEnd(grant.expiresAt, grant.voidedAt) }, t);
}

/** Every source active at t, for every feature, in no particular order. */
function activeSources(state: CustomerState, t: Date): Source[] {
  const sources: Source[] = [];
  const planValue = new Map(state.planEntitlements.map((row) => [`${row.planId}:${row.featureId}`, row.value]));
  const planFeatures = (planId: string) => state.planEntitlements.filter((row) => row.planId === planId);

  for (const subscription of state.subscriptions) {
    if (!subscriptionEntitles(subscription, t)) continue;
    const subscriptionEnd = firstEnd(subscription.endsAt, subscription.canceledAt);
    const phase = phaseAt(subscription.phases, t);
    if (phase) {
      const overridden = new Set(subscription.overrides.map((override) => override.featureId));
      // What PLAN and SUBSCRIPTION sources of this phase share.
      const inPhase = {
        entityName: state.plans.get(phase.planId)?.name ?? null,
        subscriptionId: subscription.id,
        quantity: phase.quantity,
        priority: 0,
        activeFrom: later(phase.startsAt, subscription.startsAt),
        activeTo: firstEnd(phase.endsAt, subscriptionEnd),
        periodAnchor: subscription.billingAnchor,
      };
      for (const row of planFeatures(phase.planId)) {
        const feature = state.features.get(row.featureId);
        if (!feature || overridden.has(row.featureId)) continue;
        sources.push(makeSource(feature, row.value, { ...inPhase, type: "PLAN", entity: { type: "Plan", id: phase.planId } }));
      }
      for (const override of subscription.overrides) {
        const feature = state.features.get(override.featureId);
        if (!feature) continue;
        const value = resolveOverrideValue(feature, override.value, planValue.get(`${phase.planId}:${feature.id}`) ?? null);
        sources.push(
          makeSource(feature, value, { ...inPhase, type: "SUBSCRIPTION", entity: { type: "SubscriptionOverride", id: override.id } }),
        );
      }
    }
    for (const addon of subscription.addons) {
      if (!windowCovers({ start: addon.startsAt, end: addon.endsAt }, t)) continue;
      const plan = state.plans.get(addon.addonId);
      for (const row of planFeatures(addon.addonId)) {
        const feature = state.features.get(row.featureId);
        if (!feature) continue;
        sources.push(
          makeSource(feature, row.value, {
            type: "ADDON",
            entity: { type: "Plan", id: addon.addonId },
            entityName: plan?.name ?? null,
            subscriptionId: subscription.id,
            quantity: addon.quantity,
            priority: 0,
            activeFrom: later(addon.startsAt, subscription.startsAt),
            activeTo: firstEnd(addon.endsAt, subscriptionEnd),
            periodAnchor: subscription.billingAnchor,
          }),
        );
      }
    }
  }

  for (const grant of state.grants) {
    const end = firstEnd(grant.expiresAt, grant.voidedAt);
    const feature = state.features.get(grant.featureId);
    if (!feature || !grantInForce(grant, t)) continue;
    const credit =
      grant.amount === null
        ? null
        : {
            grantId: grant.id,
            amount: grant.amount,
            priority: grant.priority,
            effectiveAt: grant.effectiveAt,
            expiresAt: grant.expiresAt,
            voidedAt: grant.voidedAt,
          };
    sources.push(
      makeSource(
        feature,
        credit ? CREDIT_VALUE : grant.value,
        {
          type: "GRANT",
          entity: { type: "Grant", id: grant.id },
          entityName: null,
          subscriptionId: null,
          quantity: 1,
          priority: grant.priority,
          activeFrom: grant.effectiveAt,
          activeTo: end,
          periodAnchor: grant.effectiveAt,
        },
        credit,
      ),
    );
  }
  return sources;
}

/** Distinct static values, best first: by level (highest first) when the feature has levels, else by precedence. */
function rankStaticValues(feature: FeatureInfo, enabled: readonly Source[]): string[] {
  const values = [...new Set(enabled.map((source) => source.staticValue).filter((value): value is string => value !== null))];
  if (feature.levels.length === 0) return values;
  const levelOf = (value: string) => feature.levels.find((level) => level.value === value)?.level ?? Number.NEGATIVE_INFINITY;
  return values.sort((a, b) => levelOf(b) - levelOf(a));
}

/** An entitlement of credits alone counts all usage since its earliest active credit began (docs/rules.md §8). */
const creditsOnlyPeriod = (allowances: readonly Source[], credits: readonly Credit[]): Period | null =>
  allowances.length === 0 && credits.length > 0 ? { start: earliest(credits.map((credit) => credit.effectiveAt)), end: null } : null;

/** One feature's aggregate from its active sources (docs/rules.md §4), or null when it has none. */
function aggregate(feature: FeatureInfo, sources: readonly Source[], t: Date): Entitlement | null {
  if (sources.length === 0) return null;
  const ordered = [...sources].sort(compareSources);
  const enabled = ordered.filter((source) => source.isEnabled);
  const metered = feature.type === "METERED";
  // Credits count for isEnabled and the active window; the rest comes from the allowances.
  const allowances = enabled.filter((source) => source.credit === null);
  const credits = metered ? enabled.flatMap((source) => (source.credit ? [source.credit] : [])).sort(compareCredits) : [];
  const isUnlimited = metered && allowances.some((source) => source.isUnlimited);
  const best = allowances[0];
  const resetPeriod = metered ? (best?.resetPeriod ?? null) : null;
  // Periods align with the subscription behind the best enabled source; a grant-only
  // entitlement aligns with its best grant.
  const anchor = (allowances.find((source) => source.subscriptionId !== null) ?? best)?.periodAnchor;
  return {
    feature,
    isEnabled: enabled.length > 0,
    usageLimit: metered && !isUnlimited && enabled.length > 0 ? enabled.reduce((sum, source) => sum + (source.usageLimit ?? 0), 0) : null,
    isUnlimited,
    isSoftLimit: metered && allowances.some((source) => source.isSoftLimit),
    resetPeriod,
    staticValues: feature.type === "STATIC" ? rankStaticValues(feature, enabled) : [],
    activeFrom: enabled.length > 0 ? earliest(enabled.map((source) => source.activeFrom)) : null,
    activeTo:
      enabled.length > 0 && enabled.every((source) => source.activeTo !== null)
        ? enabled.map((source) => source.activeTo as Date).reduce((a, b) => (b.getTime() > a.getTime() ? b : a))
        : null,
    sources: ordered,
    period: metered && resetPeriod && anchor ? periodAt(anchor, resetPeriod, t) : creditsOnlyPeriod(allowances, credits),
    credits,
  };
}

/** The customer's entitlements at t: one per feature with an active source, ordered by feature key. */
export function entitlementsAt(state: CustomerState, t: Date, filters: EntitlementFilters = {}): Entitlement[] {
  const bySubscription = filters.subscriptionIds ? new Set(filters.subscriptionIds) : null;
  const byFeature = new Map<string, Source[]>();
  for (const source of activeSources(state, t)) {
    if (bySubscription && (source.subscriptionId === null || !bySubscription.has(source.subscriptionId))) continue;
    byFeature.set(source.featureId, [...(byFeature.get(source.featureId) ?? []), source]);
  }
  const entitlements: Entitlement[] = [];
  for (const [featureId, sources] of byFeature) {
    const feature = state.features.get(featureId);
    if (!feature || !matchesFeature(feature, filters)) continue;
    const entitlement = aggregate(feature, sources, t);
    if (entitlement) entitlements.push(entitlement);
  }
  return entitlements.sort((a, b) => (a.feature.key < b.feature.key ? -1 : a.feature.key > b.feature.key ? 1 : 0));
}

/**
 * The first instant after t at which the customer's entitlements may differ from those at t
 * (`entitlements`, as entitlementsAt gave them): a subscription, phase, add-on or grant
 * starting or ending, a trial or cancellation taking effect, a usage period rolling over.
 * Null when nothing is scheduled. Until then, the entitlements at t still hold.
 */
export function nextChangeAfter(state: CustomerState, t: Date, entitlements: readonly Entitlement[]): Date | null {
  const after = t.getTime();
  let next = Number.POSITIVE_INFINITY;
  const consider = (instant: Date | null | undefined) => {
    const time = instant?.getTime();
    if (time !== undefined && time > after && time < next) next = time;
  };
  for (const subscription of state.subscriptions) {
    [subscription.startsAt, subscription.endsAt, subscription.trialEndsAt, subscription.canceledAt].forEach(consider);
    for (const phase of subscription.phases) [phase.startsAt, phase.endsAt].forEach(consider);
    for (const addon of subscription.addons) [addon.startsAt, addon.endsAt].forEach(consider);
  }
  for (const grant of state.grants) [grant.effectiveAt, grant.expiresAt, grant.voidedAt].forEach(consider);
  for (const entitlement of entitlements) consider(entitlement.period?.end);
  return Number.isFinite(next) ? new Date(next) : null;
}

/**
 * entitlementsAt for a state that does not change (cached rows), remembering the answer for
 * as long as it holds: from the instant it was computed until nextChangeAfter. Requests for
 * the same customer then share one evaluation. Filtering by subscription re-evaluates.
 */
export function createEntitlementsMemo(state: CustomerState) {
  let remembered: { from: number; until: number; entitlements: Entitlement[] } | undefined;
  return (t: Date, filters: EntitlementFilters = {}): Entitlement[] => {
    if (filters.subscriptionIds) return entitlementsAt(state, t, filters);
    const time = t.getTime();
    if (!remembered || time < remembered.from || time >= remembered.until) {
      const entitlements = entitlementsAt(state, t);
      remembered = { from: time, until: nextChangeAfter(state, t, entitlements)?.getTime() ?? Number.POSITIVE_INFINITY, entitlements };
    }
    const { entitlements } = remembered;
    const filtered = filters.featureIds || filters.featureKeys || filters.types;
    return filtered ? entitlements.filter((entitlement) => matchesFeature(entitlement.feature, filters)) : [...entitlements];
  };
}

function matchesFeature(feature: FeatureInfo, filters: EntitlementFilters): boolean {
  if (filters.featureIds && !filters.featureIds.includes(feature.id)) return false;
  if (filters.featureKeys && !filters.featureKeys.includes(feature.key)) return false;
  if (filters.types && !filters.types.includes(feature.type)) return false;
  return true;
}
