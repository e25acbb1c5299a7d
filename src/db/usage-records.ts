// Storing usage records: every usage write (recordUsage, recordUsages, consumeEntitlement)
// inserts through insertUsageRecords, in one statement for up to 1,000 records.
import { randomBytes } from "node:crypto";
import type { Prisma, PrismaClient, UsageRecord } from "../generated/prisma/client.ts";

export interface NewUsageRecord {
  projectId: string;
  customerId: string;
  featureId: string;
  quantity: number;
  timestamp: Date;
  idempotencyKey: string | null;
  consumeReason?: string | null;
}

/** A time-ordered UUID (version 7), as Prisma's `uuid(7)` default makes them for rows it creates itself. */
function uuidV7(): string {
  const bytes = randomBytes(16);
  const millis = BigInt(Date.now());
  for (let index = 0; index < 6; index++) bytes[index] = Number((millis >> BigInt(8 * (5 - index))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Inserts the records in one atomic SQL statement (up to 1,000 at a time); a record whose
 * idempotencyKey already exists in the project is skipped (not inserted, not counted).
 * Returns the rows actually inserted, in input order. The caller removes keys repeated
 * within `records` beforehand.
 */
export async function insertUsageRecords(
  client: PrismaClient | Prisma.TransactionClient,
  records: readonly NewUsageRecord[],
): Promise<UsageRecord[]> {
  if (records.length === 0) return [];
  const rows = await client.$queryRaw<UsageRecord[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${records.map(() => uuidV7())}::uuid[],
        ${records.map((record) => record.projectId)}::uuid[],
        ${records.map((record) => record.customerId)}::uuid[],
        ${records.map((record) => record.featureId)}::uuid[],
        ${records.map((record) => record.quantity)}::float8[],
        ${records.map((record) => record.timestamp)}::timestamptz[],
        ${records.map((record) => record.idempotencyKey)}::text[],
        ${records.map((record) => record.consumeReason ?? null)}::text[]
      ) WITH ORDINALITY AS r(id, project_id, customer_id, feature_id, quantity, at, idempotency_key, consume_reason, position)
    ), inserted AS (
      INSERT INTO "UsageRecord" ("id", "projectId", "customerId", "featureId", "quantity", "timestamp", "idempotencyKey", "consumeReason")
      SELECT id, project_id, customer_id, feature_id, quantity, at, idempotency_key, consume_reason::"ConsumeReason"
      FROM input ORDER BY position
      ON CONFLICT ("projectId", "idempotencyKey") DO NOTHING
      RETURNING *
    )
    SELECT inserted.* FROM inserted JOIN input ON input.id = inserted."id" ORDER BY input.position`;
  return rows.map((row) => ({ ...row, quantity: Number(row.quantity) }));
}
