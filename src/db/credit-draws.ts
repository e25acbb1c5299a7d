// The credit ledger (docs/rules.md §8): what each usage record drew from each CREDIT grant,
// and each grant's running total of it (Grant.drawn), written together by one statement.
// Reading what a credit holds now is one row; at an earlier instant, the total less the
// draws of records from then on (few, for the recent past the readers ask about).
import { Prisma } from "../generated/prisma/client.ts";
import type { RawSql } from "./raw-transaction.ts";

export interface NewDraw {
  grantId: string;
  usageRecordId: string;
  amount: number;
  timestamp: Date;
}

/** What each grant of `grantIds` has had drawn so far, by id (a write reads this under its usage lock). */
export async function drawnSoFar(client: RawSql, grantIds: readonly string[]): Promise<Map<string, number>> {
  if (grantIds.length === 0) return new Map();
  const rows = await client.$queryRaw<{ id: string; drawn: number }[]>`
    SELECT "id", "drawn" FROM "Grant" WHERE "id" = ANY(${[...grantIds]}::uuid[])`;
  return new Map(rows.map((row) => [row.id, Number(row.drawn)]));
}

/** What records with a timestamp before each key's `at` drew from its grant, in the keys' order, in one statement. */
export async function drawnBefore(client: RawSql, keys: readonly { grantId: string; at: Date }[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const rows = await client.$queryRaw<{ index: number; drawn: number }[]>`
    SELECT k.index::int AS index, (g."drawn" - COALESCE((
      SELECT SUM(d."amount") FROM "CreditDraw" d WHERE d."grantId" = k.grant_id AND d."timestamp" >= k.at
    ), 0))::float8 AS drawn
    FROM unnest(${keys.map((key) => key.grantId)}::uuid[], ${keys.map((key) => key.at)}::timestamptz[]) WITH ORDINALITY AS k(grant_id, at, index)
    JOIN "Grant" g ON g."id" = k.grant_id`;
  const byIndex = new Map(rows.map((row) => [Number(row.index) - 1, Number(row.drawn)]));
  return keys.map((_key, index) => byIndex.get(index) ?? 0);
}

/** Writes the draws and adds them to their grants' totals, in one statement (grants updated in id order). */
export async function insertDraws(client: RawSql, draws: readonly NewDraw[]): Promise<void> {
  if (draws.length === 0) return;
  await client.$executeRaw(Prisma.sql`
    WITH drawn AS (
      INSERT INTO "CreditDraw" ("id", "grantId", "usageRecordId", "amount", "timestamp")
      SELECT gen_random_uuid(), d.grant_id, d.record_id, d.amount, d.at
      FROM unnest(
        ${draws.map((draw) => draw.grantId)}::uuid[],
        ${draws.map((draw) => draw.usageRecordId)}::uuid[],
        ${draws.map((draw) => draw.amount)}::float8[],
        ${draws.map((draw) => draw.timestamp)}::timestamptz[]
      ) AS d(grant_id, record_id, amount, at)
      RETURNING "grantId", "amount"
    )
    UPDATE "Grant" g SET "drawn" = g."drawn" + t.total
    FROM (SELECT "grantId", SUM("amount") AS total FROM drawn GROUP BY "grantId" ORDER BY "grantId") t
    WHERE g."id" = t."grantId"`);
}
