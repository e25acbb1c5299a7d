// Usage records: recorded whatever the limit (idempotent by key), one or up to 1,000 in one
// atomic call, or consumed against a hard limit in one atomic step per (customer, feature).
import { check, type CheckReason } from "../domain/checks.ts";
import { appendEvents } from "../db/event-log.ts";
import type { RawSql } from "../db/raw-transaction.ts";
import { insertUsageRecords, type NewUsageRecord } from "../db/usage-records.ts";
import type { Feature, UsageRecord } from "../generated/prisma/client.ts";
import { usageKeyOf, sumUsage } from "../loaders/usage.ts";
import { alreadyExists, invalidInput } from "../errors.ts";
import { featureByKey } from "./catalog.ts";
import { lockWatchedUsage, logsNothing, usageEvents, usageLockKey, usageOutcome, usageWatches } from "./changes.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { readEntitlement, type EvaluatedEntitlement } from "./entitlements.ts";
import { invalidatingWrite, type ProjectScope } from "./scope.ts";
import { creditsAround, drawCredits, heldCredits, planCredits } from "./credits.ts";

/** How far ahead of now a usage timestamp may be. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The most records one recordUsages call takes. */
const MAX_RECORDS_PER_CALL = 1000;

/** Where a field of the record at `index` is, as the client wrote it: `input.quantity`, `records.17.quantity`. */
type FieldOf = (index: number, field: string) => string;
const inputField: FieldOf = (_index, field) => `input.${field}`;
const recordsField: FieldOf = (index, field) => `records.${index}.${field}`;

export interface UsageInput {
  customer: CustomerRef;
  featureKey: string;
  quantity?: number | null;
  timestamp?: Date | null;
  idempotencyKey?: string | null;
}

/** Where a usage record goes: its customer and feature. */
interface UsageTarget {
  customerId: string;
  featureId: string;
}

const meteredOnly = (feature: Feature, field: string) => {
  if (feature.type !== "METERED") {
    throw invalidInput(field, `usage is recorded for METERED features only; "${feature.key}" is ${feature.type}`);
  }
  return feature;
};

/**
 * Each input's customer and (METERED) feature, looked up together (a fixed number of
 * statements, none when cached, however many records and customers). The first record in
 * input order with a problem is refused, naming its field.
 */
async function resolveTargets(
  scope: ProjectScope,
  inputs: readonly Omit<UsageInput, "quantity">[],
  fieldOf: FieldOf,
  now: number,
): Promise<UsageTarget[]> {
  const [customers, features] = await Promise.all([
    Promise.allSettled(inputs.map((input, index) => resolveCustomerRef(scope, input.customer, fieldOf(index, "customer")))),
    Promise.allSettled(inputs.map((input, index) => featureByKey(scope, input.featureKey, fieldOf(index, "featureKey")))),
  ]);
  return inputs.map((input, index) => {
    if (input.timestamp && input.timestamp.getTime() > now + MAX_CLOCK_SKEW_MS) {
      throw invalidInput(fieldOf(index, "timestamp"), "must not be more than 5 minutes in the future");
    }
    const customer = customers[index];
    const feature = features[index];
    if (customer?.status !== "fulfilled") throw customer?.reason;
    if (feature?.status !== "fulfilled") throw feature?.reason;
    return { customerId: customer.value.id, featureId: meteredOnly(feature.value, fieldOf(index, "featureKey")).id };
  });
}

/** The records idempotency keys already wrote in this project, by key. */
async function recordsForKeys(client: RawSql, projectId: string, keys: readonly string[]) {
  if (keys.length === 0) return new Map<string, UsageRecord>();
  const found = await client.$queryRaw<UsageRecord[]>`
    SELECT * FROM "UsageRecord" WHERE "projectId" = ${projectId}::uuid AND "idempotencyKey" = ANY(${[...keys]}::text[])`;
  return new Map(found.map((record) => [record.idempotencyKey ?? "", record]));
}

/**
 * The first record of a key, as the answer to a retry. The key is unique in the project but
 * a retry is one for the same customer and feature: any other use of it is ALREADY_EXISTS.
 */
function asRetryOf<R extends UsageTarget & { idempotencyKey: string | null }>(first: R, target: UsageTarget, field: string): R {
  if (first.customerId !== target.customerId || first.featureId !== target.featureId) {
    throw alreadyExists("usage record for another customer or feature", field, first.idempotencyKey ?? undefined);
  }
  return first;
}

/** Thrown to undo a raw transaction whose write turns out to log events. */
class LogsEvents extends Error {}

interface RecordedUsage {
  /** One per input, in input order; a repeated idempotency key answers with its first record. */
  records: UsageRecord[];
  /** The records this call wrote (repeats of a key left out). */
  inserted: UsageRecord[];
}

/**
 * Records usage whatever the limit: up to 1,000 records in one atomic call, each by the
 * rules of docs/rules.md §5. One bad record refuses the whole call, naming its field, and
 * nothing is stored. A key repeated in the call counts once (its later uses, for the same
 * customer and feature, answer the first), a key an earlier call wrote answers that record,
 * and concurrent calls sharing keys store each key once.
 */
async function record(scope: ProjectScope, inputs: readonly UsageInput[], fieldOf: FieldOf): Promise<RecordedUsage> {
  if (inputs.length === 0) return { records: [], inserted: [] };
  if (inputs.length > MAX_RECORDS_PER_CALL) {
    throw invalidInput("records", `may hold at most ${MAX_RECORDS_PER_CALL} records (got ${inputs.length}); split them over several calls`);
  }
  const now = Date.now();
  const targets = await resolveTargets(scope, inputs, fieldOf, now);
  // The first use of each key in the call; later ones answer it (or are refused, naming theirs).
  const firstUse = new Map<string, number>();
  const answeredBy = inputs.map((input, index) => {
    const key = input.idempotencyKey;
    if (!key) return index;
    const first = firstUse.get(key);
    if (first === undefined) {
      firstUse.set(key, index);
      return index;
    }
    asRetryOf({ ...(targets[first] as UsageTarget), idempotencyKey: key }, targets[index] as UsageTarget, fieldOf(index, "idempotencyKey"));
    return first;
  });
  // Inserted in key order: concurrent calls sharing keys then wait on each other's keys in one
  // order, never in a cycle (a deadlock).
  const written = inputs
    .map((input, index) => ({ index, key: input.idempotencyKey ?? null }))
    .filter(({ index }) => answeredBy[index] === index)
    .sort((a, b) => (a.key === b.key ? a.index - b.index : a.key === null ? -1 : b.key === null ? 1 : a.key < b.key ? -1 : 1));
  const rows: NewUsageRecord[] = written.map(({ index, key }) => ({
    projectId: scope.projectId,
    ...(targets[index] as UsageTarget),
    quantity: inputs[index]?.quantity ?? 1,
    timestamp: inputs[index]?.timestamp ?? new Date(now),
    idempotencyKey: key,
  }));
  const store = async (client: RawSql) => {
    const inserted = await insertUsageRecords(client, rows);
    const insertedKeys = new Set(inserted.map((row) => row.idempotencyKey));
    // Keys an earlier (or concurrent, now committed) call wrote: their records answer, if theirs.
    const skipped = written.flatMap(({ key }) => (key !== null && !insertedKeys.has(key) ? [key] : []));
    const earlier = await recordsForKeys(client, scope.projectId, skipped);
    const byIndex = new Map<number, UsageRecord>();
    let next = 0;
    for (const { index, key } of written) {
      const first = key === null ? undefined : earlier.get(key);
      if (key !== null && !insertedKeys.has(key)) {
        if (!first) throw new Error(`usage record of idempotency key ${key} neither inserted nor found`);
        byIndex.set(index, asRetryOf(first, targets[index] as UsageTarget, fieldOf(index, "idempotencyKey")));
      } else {
        byIndex.set(index, inserted[next++] as UsageRecord);
      }
    }
    return { records: answeredBy.map((first) => byIndex.get(first) as UsageRecord), inserted };
  };
  const at = new Date(now);
  // What the records can change that is announced (a hard limit's access, a threshold): none
  // for most writes, and then no events are looked for.
  const [watches, credits] = await Promise.all([usageWatches(scope.loaders, rows, at), planCredits(scope.loaders, rows)]);
  const customerIds = [...new Set(targets.map((target) => target.customerId))];
  // A key refused after the INSERT (another customer's or feature's) must undo the rows it
  // inserted beside it; without keys, or with one row, there is nothing to undo.
  const alone = firstUse.size === 0 || rows.length === 1;
  if (watches.length === 0 && credits.pairs.length === 0 && alone) {
    return invalidatingWrite(scope, { usageOf: customerIds }, () => store(scope.prisma));
  }
  /** The write itself, in a transaction: locked, stored, drawn on credits, and what it did to what is watched. */
  const write = async (sql: RawSql) => {
    await lockWatchedUsage(sql, watches, credits.pairs);
    const recorded = await store(sql);
    const movements = await drawCredits(
      sql,
      credits,
      recorded.inserted,
      watches.flatMap(({ entitlement }) => entitlement.credits),
    );
    return { recorded, outcome: await usageOutcome(sql, watches, recorded.inserted, at, { credits: movements }) };
  };
  let logged = 0;
  const recorded = await invalidatingWrite(scope, { usageOf: customerIds }, async () => {
    // Most watched writes log nothing: a transaction of raw statements finds that out and
    // commits. One that flips access or may reach a threshold is undone, and done again
    // where its events can be made (they read the customer through Prisma).
    const quiet = await scope
      .rawTransaction(async (sql) => {
        const { recorded, outcome } = await write(sql);
        if (!logsNothing(outcome)) throw new LogsEvents();
        return recorded;
      })
      .catch((error: unknown) => {
        if (error instanceof LogsEvents) return null;
        throw error;
      });
    if (quiet) return quiet;
    return scope.prisma.$transaction(async (tx) => {
      const { recorded, outcome } = await write(tx);
      logged = (await appendEvents(tx, scope.projectId, await usageEvents(tx, scope, outcome, at))).length;
      return recorded;
    });
  });
  if (logged > 0) scope.events.logged(scope.projectId);
  scope.loaders.forgetUsage();
  return recorded;
}

/** Records usage of a METERED feature whatever the limit; late events count in the period they fall in. */
export async function recordUsage(scope: ProjectScope, input: UsageInput): Promise<UsageRecord> {
  const { records } = await record(scope, [input], inputField);
  return records[0] as UsageRecord;
}

/** Up to 1,000 usage records in one atomic call (docs/rules.md §5); errors name `records.<index>.<field>`. */
export async function recordUsages(
  scope: ProjectScope,
  inputs: readonly UsageInput[],
): Promise<{ records: UsageRecord[]; recordedCount: number }> {
  const { records, inserted } = await record(scope, inputs, recordsField);
  return { records, recordedCount: inserted.length };
}

export interface ConsumeOutcome {
  allowed: boolean;
  reason: CheckReason;
  /** The record written (or, for a retry, first written); null when refused. */
  record: UsageRecord | null;
  /** The entitlement as it stands after this step. */
  entitlement: EvaluatedEntitlement | null;
}

/** Checks a hard limit and records the usage in one atomic step. */
export async function consumeEntitlement(scope: ProjectScope, input: Omit<UsageInput, "timestamp">): Promise<ConsumeOutcome> {
  const { projectId } = scope;
  const now = new Date();
  const [target] = (await resolveTargets(scope, [input], inputField, now.getTime())) as [UsageTarget];
  const quantity = input.quantity ?? 1;
  const key = input.idempotencyKey ?? null;
  const { evaluated } = await readEntitlement(scope.loaders, target.customerId, input.featureKey, now);
  /** A retry answers as the first call did (a key first used by recordUsage: ENTITLED). */
  const retried = (previous: UsageRecord) => ({
    allowed: true,
    reason: (previous.consumeReason ?? "ENTITLED") as CheckReason,
    record: asRetryOf(previous, target, "input.idempotencyKey"),
    inserted: [],
  });
  let logged = 0;
  const outcome = await invalidatingWrite(scope, { usageOf: [target.customerId] }, () =>
    scope.prisma.$transaction(async (tx) => {
      // One consumer at a time per (customer, feature): the check and the write see the same usage.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${usageLockKey(target.customerId, target.featureId)}, 0))`;
      const previous = key ? (await recordsForKeys(tx, projectId, [key])).get(key) : undefined;
      if (previous) return retried(previous);
      const entitlement = evaluated?.entitlement ?? null;
      const [used = 0] = entitlement ? await sumUsage(tx, [usageKeyOf(target.customerId, entitlement)]) : [];
      // What the credits hold now, read under the lock: no other writer draws on them meanwhile.
      const held = entitlement?.credits.length ? creditsAround(entitlement, await heldCredits(tx, entitlement), now).after : 0;
      const decision = check(entitlement, used, quantity, held);
      if (!decision.allowed) return { ...decision, record: null, inserted: [] };
      const [record] = await insertUsageRecords(tx, [
        { projectId, ...target, quantity, timestamp: now, idempotencyKey: key, consumeReason: decision.reason },
      ]);
      if (record) {
        // The lock makes the usage now exactly what was read plus this record.
        const watches = entitlement ? await usageWatches(scope.loaders, [record], now) : [];
        const plan = { pairs: [target], entitlementAt: () => entitlement };
        const credits = entitlement?.credits.length ? await drawCredits(tx, plan, [record], entitlement.credits) : undefined;
        const outcome = await usageOutcome(tx, watches, [record], now, { usedNow: [used + quantity], credits });
        logged = (await appendEvents(tx, projectId, await usageEvents(tx, scope, outcome, now))).length;
        return { ...decision, record, inserted: [record] };
      }
      // A recordUsage (which takes no lock) wrote the key since the look above: its record answers.
      const first = (await recordsForKeys(tx, projectId, [key as string])).get(key as string);
      if (!first) throw new Error(`usage record of idempotency key ${key} neither inserted nor found`);
      return retried(first);
    }),
  );
  if (logged > 0) scope.events.logged(projectId);
  // The entitlement as it stands after this step (usage read afresh).
  scope.loaders.forgetUsage();
  const after = await readEntitlement(scope.loaders, target.customerId, input.featureKey, now);
  return { allowed: outcome.allowed, reason: outcome.reason, record: outcome.record, entitlement: after.evaluated };
}
