// Credits (docs/rules.md §8): one-off amounts a METERED feature draws on once its period's
// allowance is used up, across periods, until they are used up, expire or are voided.
// Pure: the write path hands it what is left of the allowance and what each credit still
// holds, and stores the draws it answers; the readers hand it balances and ask what is available.

/** A CREDIT grant as the burn-down sees it. */
export interface Credit {
  grantId: string;
  amount: number;
  priority: number;
  effectiveAt: Date;
  expiresAt: Date | null;
  voidedAt: Date | null;
}

/** A credit with what it held at some instant. */
export interface CreditBalance extends Credit {
  remaining: number;
}

/** Burn-down order: higher priority first, then earlier expiresAt (open-ended last), then earlier effectiveAt, then id. */
export function compareCredits(a: Credit, b: Credit): number {
  const expiry = (credit: Credit) => credit.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  return (
    b.priority - a.priority ||
    expiry(a) - expiry(b) ||
    a.effectiveAt.getTime() - b.effectiveAt.getTime() ||
    (a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0)
  );
}

/** When the credit stops holding anything: the first of expiresAt and voidedAt. */
function creditEnd(credit: Pick<Credit, "expiresAt" | "voidedAt">): Date | null {
  const ends = [credit.expiresAt, credit.voidedAt].filter((end): end is Date => end !== null);
  return ends.length === 0 ? null : new Date(Math.min(...ends.map((end) => end.getTime())));
}

/**
 * What the credit holds at `at`, given what records before `at` drew from it: its amount
 * before it starts (nothing was drawn yet), nothing from its end on (its remainder lapses).
 */
export function creditRemaining(credit: Credit, drawnBefore: number, at: Date): number {
  const end = creditEnd(credit);
  if (end && at.getTime() >= end.getTime()) return 0;
  return Math.max(0, credit.amount - drawnBefore);
}

export interface Draw {
  grantId: string;
  amount: number;
}

/** How one record of quantity q is covered: the period's allowance first, then credits in burn-down order, then nothing. */
export interface BurnDown {
  fromAllowance: number;
  draws: Draw[];
  /** Beyond every limit: allowed for recordUsage and soft limits, refused by a hard limit's consume. */
  beyond: number;
}

/**
 * Burns `quantity` down: what is left of the allowance (`allowanceLeft`, already clamped at
 * 0 by the caller or not), then each credit of `credits` (in burn-down order, with what it
 * still holds) giving at most that. A quantity of 0 or less draws nothing: a negative record
 * gives back to its period's allowance only.
 */
export function burnDown(quantity: number, allowanceLeft: number, credits: readonly { grantId: string; holds: number }[]): BurnDown {
  if (!(quantity > 0)) return { fromAllowance: 0, draws: [], beyond: 0 };
  const fromAllowance = Math.min(quantity, Math.max(0, allowanceLeft));
  let rest = quantity - fromAllowance;
  const draws: Draw[] = [];
  for (const credit of credits) {
    if (rest <= 0) break;
    const amount = Math.min(rest, Math.max(0, credit.holds));
    if (amount <= 0) continue;
    draws.push({ grantId: credit.grantId, amount });
    rest -= amount;
  }
  return { fromAllowance, draws, beyond: rest };
}

/** One record to burn down, in the order the write stores them. */
export interface RecordToBurn {
  quantity: number;
  /** The (customer, feature, period) the record counts in: records sharing it share an allowance. */
  periodKey: string;
  /** The period's allowance (usageLimit); null when unlimited (nothing is drawn). */
  usageLimit: number | null;
  /** The credits active at the record's timestamp, in burn-down order. */
  creditIds: readonly string[];
}

/**
 * The draws of records stored together, each burned down in turn: `usedBefore` is each
 * period's usage before the first of them, `holds` what each credit holds before them.
 * Answers the draws per record (in order) and what each credit then holds.
 */
export function planDraws(
  records: readonly RecordToBurn[],
  usedBefore: ReadonlyMap<string, number>,
  holds: ReadonlyMap<string, number>,
): { draws: Draw[][]; holds: Map<string, number> } {
  const used = new Map(usedBefore);
  const left = new Map(holds);
  const draws = records.map((record) => {
    const usedNow = used.get(record.periodKey) ?? 0;
    used.set(record.periodKey, usedNow + record.quantity);
    if (record.usageLimit === null) return [];
    const result = burnDown(
      record.quantity,
      record.usageLimit - usedNow,
      record.creditIds.map((grantId) => ({ grantId, holds: left.get(grantId) ?? 0 })),
    );
    for (const draw of result.draws) left.set(draw.grantId, (left.get(draw.grantId) ?? 0) - draw.amount);
    return result.draws;
  });
  return { draws, holds: left };
}

/** What may still be used: max(0, usageLimit − used) + what the credits hold; null when unlimited. */
export function available(usageLimit: number | null, isUnlimited: boolean, used: number, creditsRemaining: number): number | null {
  if (isUnlimited || usageLimit === null) return null;
  return Math.max(0, usageLimit - used) + creditsRemaining;
}
