// Drawing on credits as usage is recorded (docs/rules.md §8): in the usage write's own
// transaction, under its (customer, feature) lock, each new record fills what is left of its
// period's allowance, then draws on the credits active at its timestamp in burn-down order.
// What each record drew is written to the ledger (src/db/credit-draws.ts) beside the record.
import { creditRemaining, planDraws, type Credit, type RecordToBurn } from "../domain/credits.ts";
import type { Entitlement } from "../domain/entitlements.ts";
import { drawnSoFar, insertDraws } from "../db/credit-draws.ts";
import type { RawSql } from "../db/raw-transaction.ts";
import type { Loaders } from "../loaders/index.ts";
import { sumUsage, usageKeyOf } from "../loaders/usage.ts";
import type { UsageRecord } from "../generated/prisma/client.ts";
import { readEntitlements } from "./entitlements.ts";

type Planned = { customerId: string; featureId: string; timestamp: Date };

/** The entitlement a record counts against at its timestamp, for a (customer, feature) that has credits then. */
export interface CreditPlan {
  /** The (customer, feature) pairs whose records may draw on credits: their writers take the usage lock. */
  pairs: { customerId: string; featureId: string }[];
  /** The entitlement at a record's timestamp (null: none), for the records of those pairs. */
  entitlementAt(customerId: string, featureId: string, timestamp: Date): Entitlement | null;
}

const pairKey = (customerId: string, featureId: string) => `${customerId}:${featureId}`;
const instantKey = (customerId: string, featureId: string, timestamp: Date) => `${pairKey(customerId, featureId)}@${timestamp.getTime()}`;

/**
 * Which of these records' (customer, feature) pairs have credits at a record's timestamp,
 * read from the request's loaders (usage does not change entitlements). Records of 0 or less
 * draw nothing, and are left out.
 */
export async function planCredits(loaders: Loaders, records: readonly (Planned & { quantity: number })[]): Promise<CreditPlan> {
  const instants = new Map<string, Planned>();
  for (const record of records) instants.set(instantKey(record.customerId, record.featureId, record.timestamp), record);
  const found = new Map<string, Entitlement | null>();
  await Promise.all(
    [...instants].map(async ([key, { customerId, featureId, timestamp }]) => {
      const [evaluated] = await readEntitlements(loaders, customerId, timestamp, { filters: { featureIds: [featureId] } });
      found.set(key, evaluated?.entitlement ?? null);
    }),
  );
  const pairs = new Map<string, { customerId: string; featureId: string }>();
  for (const record of records) {
    const entitlement = found.get(instantKey(record.customerId, record.featureId, record.timestamp));
    if (record.quantity > 0 && entitlement && entitlement.credits.length > 0 && !entitlement.isUnlimited) {
      pairs.set(pairKey(record.customerId, record.featureId), { customerId: record.customerId, featureId: record.featureId });
    }
  }
  return {
    pairs: [...pairs.values()],
    entitlementAt: (customerId, featureId, timestamp) => found.get(instantKey(customerId, featureId, timestamp)) ?? null,
  };
}

/** What a write did to credits: for each credit it read, what had been drawn from it before the write and after. */
export type CreditMovements = ReadonlyMap<string, { credit: Credit; before: number; after: number }>;

export const NO_MOVEMENTS: CreditMovements = new Map();

/**
 * Draws on credits for the records just inserted (in their order) of the plan's pairs, and
 * writes the draws. `alsoRead` are credits whose balance the caller needs besides (those of
 * entitlements now, for access flips). Statements: none without credits; otherwise the
 * periods' sums, the credits' totals, and the draws.
 */
export async function drawCredits(
  sql: RawSql,
  plan: CreditPlan,
  inserted: readonly UsageRecord[],
  alsoRead: readonly Credit[] = [],
): Promise<CreditMovements> {
  const drawing = new Set(plan.pairs.map(({ customerId, featureId }) => pairKey(customerId, featureId)));
  const records = inserted.filter((record) => drawing.has(pairKey(record.customerId, record.featureId)));
  if (records.length === 0 && alsoRead.length === 0) return NO_MOVEMENTS;
  const credits = new Map<string, Credit>(alsoRead.map((credit) => [credit.grantId, credit]));
  const toBurn: (RecordToBurn & { record: UsageRecord })[] = [];
  const periods = new Map<string, ReturnType<typeof usageKeyOf>>();
  for (const record of records) {
    const entitlement = plan.entitlementAt(record.customerId, record.featureId, record.timestamp);
    const key = entitlement ? usageKeyOf(record.customerId, entitlement) : null;
    const periodKey = key
      ? `${pairKey(record.customerId, record.featureId)}|${key.start?.getTime() ?? ""}|${key.end?.getTime() ?? ""}`
      : "";
    if (key) periods.set(periodKey, key);
    for (const credit of entitlement?.credits ?? []) credits.set(credit.grantId, credit);
    toBurn.push({
      record,
      quantity: record.quantity,
      periodKey,
      usageLimit: entitlement && !entitlement.isUnlimited ? entitlement.usageLimit : null,
      creditIds: entitlement?.credits.map((credit) => credit.grantId) ?? [],
    });
  }
  // Each period's usage before these records: its sum now (they are in) less theirs.
  const periodKeys = [...periods.keys()];
  const sums = await sumUsage(sql, [...periods.values()]);
  const usedBefore = new Map(periodKeys.map((key, index) => [key, sums[index] ?? 0]));
  for (const { periodKey, quantity } of toBurn) usedBefore.set(periodKey, (usedBefore.get(periodKey) ?? 0) - quantity);
  const drawn = await drawnSoFar(sql, [...credits.keys()]);
  const holds = new Map([...credits].map(([id, credit]) => [id, credit.amount - (drawn.get(id) ?? 0)]));
  const planned = planDraws(toBurn, usedBefore, holds);
  await insertDraws(
    sql,
    planned.draws.flatMap((draws, index) => {
      const { record } = toBurn[index] as (typeof toBurn)[number];
      return draws.map((draw) => ({ ...draw, usageRecordId: record.id, timestamp: record.timestamp }));
    }),
  );
  return new Map(
    [...credits].map(([id, credit]) => {
      const before = drawn.get(id) ?? 0;
      return [id, { credit, before, after: before + ((holds.get(id) ?? 0) - (planned.holds.get(id) ?? 0)) }];
    }),
  );
}

/** What has been drawn from the entitlement's credits so far, as movements that moved nothing (one statement). */
export async function heldCredits(sql: RawSql, entitlement: Entitlement): Promise<CreditMovements> {
  const drawn = await drawnSoFar(
    sql,
    entitlement.credits.map((credit) => credit.grantId),
  );
  return new Map(
    entitlement.credits.map((credit) => {
      const sofar = drawn.get(credit.grantId) ?? 0;
      return [credit.grantId, { credit, before: sofar, after: sofar }];
    }),
  );
}

/** What the entitlement's credits hold at `at`, before and after the movements (which must include them). */
export function creditsAround(entitlement: Entitlement, movements: CreditMovements, at: Date): { before: number; after: number } {
  let before = 0;
  let after = 0;
  for (const credit of entitlement.credits) {
    const moved = movements.get(credit.grantId);
    before += creditRemaining(credit, moved?.before ?? 0, at);
    after += creditRemaining(credit, moved?.after ?? 0, at);
  }
  return { before, after };
}
