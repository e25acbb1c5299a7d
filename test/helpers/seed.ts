// The setup a test needs before the behaviour it checks — features, plans with what they
// give, customers, subscriptions, grants, usage — made through the API as a user would, one
// mutation each. A setup mutation that fails throws with its GraphQL errors, so that a broken
// setup reads as such and not as a puzzling failure further down.
//
//   const s = seed(t);                                   // a TestApp, as its ADMIN key
//   await s.feature({ key: "exports", type: "METERED" });
//   const team = await s.plan({ key: "team", entitlements: { exports: { usageLimit: 10 } } });
//   await s.customer("acme");
//   await s.subscription("acme", { planId: team.id });
//
// Not for the mutation a test is about: that one the test sends itself and checks.
import type { GraphQLResponse, TestApp } from "./app.ts";

/** Sends one GraphQL operation: a TestApp's `gql`, or a client of a listening server. */
export type Gql = (query: string, variables?: Record<string, unknown>) => Promise<Pick<GraphQLResponse, "data" | "errors">>;

type FeatureType = "BOOLEAN" | "METERED" | "STATIC";
type ResetPeriod = "DAILY" | "WEEKLY" | "MONTHLY" | "QUARTERLY" | "HALF_YEARLY" | "ANNUAL" | "NEVER";
type Instant = Date | string;

interface FeatureSeed {
  key: string;
  type: FeatureType;
  /** Default: the key. */
  name?: string;
  description?: string;
  unitSingular?: string;
  unitPlural?: string;
  metadata?: unknown;
  levels?: { level: number; name: string; value: string; isUnlimited?: boolean }[];
}

/** What a plan, an add-on or a grant gives of one feature (the API's defaults for the rest). */
interface EntitlementSeed {
  isEnabled?: boolean;
  usageLimit?: number;
  isUnlimited?: boolean;
  resetPeriod?: ResetPeriod;
  isSoftLimit?: boolean;
  staticValue?: string;
}

interface PlanSeed {
  key: string;
  /** Default: the key. */
  name?: string;
  kind?: "PLAN" | "ADDON";
  description?: string;
  metadata?: unknown;
  /** Set after the plan is made, by feature key. */
  entitlements?: Record<string, EntitlementSeed>;
}

/** A customer by externalId (a string) or by either reference. */
type CustomerSeedRef = string | { id: string } | { externalId: string };

export interface SubscriptionSeed {
  planId: string;
  quantity?: number;
  startsAt?: Instant;
  endsAt?: Instant;
  trialEndsAt?: Instant;
  billingAnchor?: Instant;
  metadata?: unknown;
  addons?: { addonId: string; quantity?: number; startsAt?: Instant; endsAt?: Instant }[];
}

interface GrantSeed extends EntitlementSeed {
  featureKey: string;
  kind?: "ALLOWANCE" | "CREDIT";
  amount?: number;
  priority?: number;
  effectiveAt?: Instant;
  expiresAt?: Instant;
  reason?: string;
  metadata?: unknown;
}

interface UsageSeed {
  featureKey: string;
  /** Default: 1. */
  quantity?: number;
  timestamp?: Instant;
  idempotencyKey?: string;
}

export interface Seed {
  feature(input: FeatureSeed): Promise<{ id: string; key: string }>;
  /** A plan or add-on, then each of its entitlements. */
  plan(input: PlanSeed): Promise<{ id: string; key: string }>;
  entitlement(planId: string, featureKey: string, value?: EntitlementSeed): Promise<{ id: string }>;
  customer(externalId: string, input?: { name?: string; email?: string; metadata?: unknown }): Promise<{ id: string; externalId: string }>;
  /** The subscription, with its add-ons' ids in the order given. */
  subscription(customer: CustomerSeedRef, input: SubscriptionSeed): Promise<{ id: string; addons: { id: string }[] }>;
  grant(customer: CustomerSeedRef, input: GrantSeed): Promise<{ id: string }>;
  usage(customer: CustomerSeedRef, input: UsageSeed): Promise<{ id: string }>;
}

/** A setup mutation the API refused: the test's premise does not hold. */
class SeedError extends Error {
  constructor(field: string, input: unknown, errors: unknown) {
    super(`setup ${field}(${JSON.stringify(input)}) failed: ${JSON.stringify(errors)}`);
    this.name = "SeedError";
  }
}

const customerRef = (customer: CustomerSeedRef) => (typeof customer === "string" ? { externalId: customer } : customer);

/** A seed over `source`: a TestApp (as `key`, default its first project's ADMIN key) or any `gql`. */
export function seed(source: Pick<TestApp, "gql"> | Gql, key?: string): Seed {
  const gql: Gql = typeof source === "function" ? source : (query, variables) => source.gql(query, variables, { key });

  /** Runs `field(input: $input)` and answers its selection, or throws with the errors. */
  async function mutate<T>(field: string, inputType: string, input: unknown, selection: string): Promise<T> {
    const result = await gql(`mutation ($input: ${inputType}!) { ${field}(input: $input) { ${selection} } }`, { input });
    const data = result.data as Record<string, T> | null | undefined;
    if (result.errors?.length || !data?.[field]) throw new SeedError(field, input, result.errors);
    return data[field]!;
  }

  const entitlement: Seed["entitlement"] = (planId, featureKey, value = {}) =>
    mutate("setPlanEntitlement", "SetPlanEntitlementInput", { planId, featureKey, ...value }, "id");

  return {
    feature: ({ name, ...input }) => mutate("createFeature", "CreateFeatureInput", { name: name ?? input.key, ...input }, "id key"),
    async plan({ name, entitlements = {}, ...input }) {
      const plan = await mutate<{ id: string; key: string }>(
        "createPlan",
        "CreatePlanInput",
        { name: name ?? input.key, ...input },
        "id key",
      );
      for (const [featureKey, value] of Object.entries(entitlements)) await entitlement(plan.id, featureKey, value);
      return plan;
    },
    entitlement,
    customer: (externalId, input = {}) => mutate("createCustomer", "CreateCustomerInput", { externalId, ...input }, "id externalId"),
    subscription: (customer, input) =>
      mutate("createSubscription", "CreateSubscriptionInput", { customer: customerRef(customer), ...input }, "id addons { id }"),
    grant: (customer, input) => mutate("createGrant", "CreateGrantInput", { customer: customerRef(customer), ...input }, "id"),
    usage: (customer, input) => mutate("recordUsage", "RecordUsageInput", { customer: customerRef(customer), ...input }, "id"),
  };
}
