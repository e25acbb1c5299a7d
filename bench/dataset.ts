// The benchmark's dataset: deterministic (a seeded generator), written with bulk INSERTs
// straight into a migrated database. At scale 1: 10,000 customers, 200 features, 20 plans of
// 15–30 features, 10 add-ons, 12,000 subscriptions, 50,000 grants (10% expired) and
// 1,000,000 usage records; `scale` multiplies the customer side, the catalog stays as is.

import { rebuildUsageAggregates } from "../src/db/usage-records.ts";

/** Anything that runs SQL with positional parameters: a pg client or a PGlite instance. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** mulberry32: a small, fast, seeded PRNG; the same seed gives the same dataset. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    uuid() {
      const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
      hex[12] = "4";
      hex[16] = ((Math.floor(next() * 4) + 8) as number).toString(16);
      const s = hex.join("");
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
    },
  };
}

interface DatasetSizes {
  customers: number;
  features: number;
  plans: number;
  addons: number;
  subscriptions: number;
  grants: number;
  usageRecords: number;
}

function sizesAt(scale: number): DatasetSizes {
  const scaled = (n: number) => Math.max(1, Math.round(n * scale));
  return {
    customers: scaled(10_000),
    features: 200,
    plans: 20,
    addons: 10,
    subscriptions: scaled(12_000),
    grants: scaled(50_000),
    usageRecords: scaled(1_000_000),
  };
}

/** What the load generator needs to know about the data it asks for. */
export interface DatasetIndex {
  sizes: DatasetSizes;
  /** Customer external ids, in generation order (the Zipf ranks follow it). */
  customerExternalIds: string[];
  /** For each customer, the metered feature keys its current plan gives it. */
  meteredKeysByCustomer: string[][];
  /** One plan and one of its metered features with a hard limit: the S1 and catalog target. */
  hotPlanKey: string;
}

type Column = [name: string, arrayType: string, cast?: string];

/** Inserts rows in chunks, one statement per chunk, through unnest() of typed arrays. */
async function insertRows(sql: SqlRunner, table: string, columns: Column[], rows: unknown[][], chunk = 5_000) {
  const names = columns.map(([name]) => `"${name}"`).join(", ");
  const selects = columns.map(([_name, , cast], index) => (cast ? `c${index}::${cast}` : `c${index}`)).join(", ");
  const arrays = columns.map(([, type], index) => `$${index + 1}::${type}[]`).join(", ");
  const aliases = columns.map((_, index) => `c${index}`).join(", ");
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    const params = columns.map((_, index) => part.map((row) => row[index]));
    await sql.query(`INSERT INTO "${table}" (${names}) SELECT ${selects} FROM unnest(${arrays}) AS t(${aliases})`, params);
  }
}

export const DAY = 86_400_000;

export async function generateDataset(sql: SqlRunner, projectId: string, scale: number, seed = 42): Promise<DatasetIndex> {
  const random = seededRandom(seed);
  const sizes = sizesAt(scale);
  const now = Date.now();
  // Everything started two months ago; usage periods are monthly from there.
  const started = new Date(now - 60 * DAY).toISOString();
  const at = (ms: number) => new Date(ms).toISOString();

  const features = Array.from({ length: sizes.features }, (_, index) => {
    const roll = random.next();
    const type = roll < 0.6 ? "METERED" : roll < 0.9 ? "BOOLEAN" : "STATIC";
    return { id: random.uuid(), key: `feature-${String(index + 1).padStart(3, "0")}`, type };
  });
  await insertRows(
    sql,
    "Feature",
    [
      ["id", "uuid"],
      ["projectId", "uuid"],
      ["key", "text"],
      ["name", "text"],
      ["type", "text", '"FeatureType"'],
      ["updatedAt", "timestamptz"],
    ],
    features.map((feature) => [feature.id, projectId, feature.key, feature.key, feature.type, started]),
  );

  const plans = Array.from({ length: sizes.plans + sizes.addons }, (_, index) => {
    const isAddon = index >= sizes.plans;
    const key = isAddon ? `addon-${index - sizes.plans + 1}` : `plan-${index + 1}`;
    const count = isAddon ? random.int(3, 8) : random.int(15, 30);
    const chosen = new Set<(typeof features)[number]>();
    while (chosen.size < count) chosen.add(random.pick(features));
    return { id: random.uuid(), key, kind: isAddon ? "ADDON" : "PLAN", features: [...chosen] };
  });
  await insertRows(
    sql,
    "Plan",
    [
      ["id", "uuid"],
      ["projectId", "uuid"],
      ["key", "text"],
      ["name", "text"],
      ["kind", "text", '"PlanKind"'],
      ["updatedAt", "timestamptz"],
    ],
    plans.map((plan) => [plan.id, projectId, plan.key, plan.key, plan.kind, started]),
  );
  const planEntitlements = plans.flatMap((plan) =>
    plan.features.map((feature) => {
      const unlimited = feature.type === "METERED" && random.next() < 0.05;
      const usageLimit = feature.type === "METERED" && !unlimited ? random.int(1, 100) * 100 : null;
      return [
        random.uuid(),
        plan.id,
        feature.id,
        true,
        usageLimit,
        unlimited,
        feature.type === "METERED" ? "MONTHLY" : null,
        feature.type === "STATIC" ? `tier-${random.int(1, 3)}` : null,
        started,
      ];
    }),
  );
  await insertRows(
    sql,
    "PlanEntitlement",
    [
      ["id", "uuid"],
      ["planId", "uuid"],
      ["featureId", "uuid"],
      ["isEnabled", "bool"],
      ["usageLimit", "int4"],
      ["isUnlimited", "bool"],
      ["resetPeriod", "text", '"ResetPeriod"'],
      ["staticValue", "text"],
      ["updatedAt", "timestamptz"],
    ],
    planEntitlements,
  );

  const basePlans = plans.filter((plan) => plan.kind === "PLAN");
  const addons = plans.filter((plan) => plan.kind === "ADDON");
  const customers = Array.from({ length: sizes.customers }, (_, index) => ({
    id: random.uuid(),
    externalId: `cus-${String(index + 1).padStart(6, "0")}`,
    plan: random.pick(basePlans),
  }));
  await insertRows(
    sql,
    "Customer",
    [
      ["id", "uuid"],
      ["projectId", "uuid"],
      ["externalId", "text"],
      ["updatedAt", "timestamptz"],
    ],
    customers.map((customer) => [customer.id, projectId, customer.externalId, started]),
  );

  // Every customer has a current subscription; the rest are past ones that ended.
  const subscriptions = Array.from({ length: sizes.subscriptions }, (_, index) => {
    const customer = index < customers.length ? customers[index]! : random.pick(customers);
    const current = index < customers.length;
    return {
      id: random.uuid(),
      customer,
      plan: current ? customer.plan : random.pick(basePlans),
      startsAt: current ? started : at(now - 400 * DAY),
      endsAt: current ? null : at(now - 90 * DAY),
    };
  });
  await insertRows(
    sql,
    "CustomerSubscription",
    [
      ["id", "uuid"],
      ["projectId", "uuid"],
      ["customerId", "uuid"],
      ["startsAt", "timestamptz"],
      ["endsAt", "timestamptz"],
      ["billingAnchor", "timestamptz"],
      ["updatedAt", "timestamptz"],
    ],
    subscriptions.map((s) => [s.id, projectId, s.customer.id, s.startsAt, s.endsAt, s.startsAt, started]),
  );
  await insertRows(
    sql,
    "SubscriptionPhase",
    [
      ["id", "uuid"],
      ["subscriptionId", "uuid"],
      ["planId", "uuid"],
      ["quantity", "int4"],
      ["startsAt", "timestamptz"],
      ["endsAt", "timestamptz"],
    ],
    subscriptions.map((s) => [random.uuid(), s.id, s.plan.id, random.next() < 0.1 ? random.int(2, 5) : 1, s.startsAt, s.endsAt]),
  );
  const current = subscriptions.slice(0, customers.length);
  await insertRows(
    sql,
    "SubscriptionAddon",
    [
      ["id", "uuid"],
      ["subscriptionId", "uuid"],
      ["addonId", "uuid"],
      ["quantity", "int4"],
      ["startsAt", "timestamptz"],
    ],
    current.filter(() => random.next() < 0.2).map((s) => [random.uuid(), s.id, random.pick(addons).id, 1, s.startsAt]),
  );
  await insertRows(
    sql,
    "SubscriptionOverride",
    [
      ["id", "uuid"],
      ["subscriptionId", "uuid"],
      ["featureId", "uuid"],
      ["usageLimit", "int4"],
      ["updatedAt", "timestamptz"],
    ],
    current
      .filter(() => random.next() < 0.05)
      .flatMap((s) => {
        const metered = s.plan.features.filter((feature) => feature.type === "METERED");
        return metered.length > 0 ? [[random.uuid(), s.id, random.pick(metered).id, random.int(1, 50) * 1000, started]] : [];
      }),
  );

  const meteredFeatures = features.filter((feature) => feature.type === "METERED");
  await insertRows(
    sql,
    "Grant",
    [
      ["id", "uuid"],
      ["projectId", "uuid"],
      ["customerId", "uuid"],
      ["featureId", "uuid"],
      ["usageLimit", "int4"],
      ["resetPeriod", "text", '"ResetPeriod"'],
      ["effectiveAt", "timestamptz"],
      ["expiresAt", "timestamptz"],
      ["updatedAt", "timestamptz"],
    ],
    Array.from({ length: sizes.grants }, () => {
      const expired = random.next() < 0.1;
      return [
        random.uuid(),
        projectId,
        random.pick(customers).id,
        random.pick(meteredFeatures).id,
        random.int(1, 20) * 50,
        "MONTHLY",
        started,
        expired ? at(now - 10 * DAY) : null,
        started,
      ];
    }),
  );

  // Usage against the metered features of each customer's plan, over the last 60 days.
  const meteredByCustomer = customers.map((customer) => customer.plan.features.filter((feature) => feature.type === "METERED"));
  const usage: unknown[][] = [];
  const flush = async () => {
    await insertRows(
      sql,
      "UsageRecord",
      [
        ["id", "uuid"],
        ["projectId", "uuid"],
        ["customerId", "uuid"],
        ["featureId", "uuid"],
        ["quantity", "float8"],
        ["timestamp", "timestamptz"],
      ],
      usage.splice(0),
      10_000,
    );
  };
  for (let index = 0; index < sizes.usageRecords; index++) {
    const customerIndex = random.int(0, customers.length - 1);
    const metered = meteredByCustomer[customerIndex]!;
    if (metered.length === 0) continue;
    usage.push([
      random.uuid(),
      projectId,
      customers[customerIndex]!.id,
      random.pick(metered).id,
      random.int(1, 10),
      at(now - random.next() * 60 * DAY),
    ]);
    if (usage.length >= 50_000) await flush();
  }
  await flush();
  // The records went in by plain SQL: their sums are made in one pass afterwards.
  await rebuildUsageAggregates(sql);
  await sql.query(`ANALYZE`);

  return {
    sizes,
    customerExternalIds: customers.map((customer) => customer.externalId),
    meteredKeysByCustomer: meteredByCustomer.map((metered) => metered.map((feature) => feature.key)),
    hotPlanKey: customers[0]!.plan.key,
  };
}
