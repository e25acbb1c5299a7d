// Usage records: recorded whatever the limit (idempotent by key), or consumed against a
// hard limit in one atomic step per (customer, feature).
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerRef, resolveCustomerRef } from "./customer.ts";
import { featureByKey } from "./feature.ts";
import { CheckReasonEnum, CustomerEntitlementType, evaluateFeature, type EvaluatedEntitlement } from "./entitlement.ts";
import { catalogKey, text } from "./inputs.ts";
import { projectIdOf, type Context } from "../context.ts";
import { withChangeEvents } from "../events/track.ts";
import { invalidInput } from "../errors.ts";
import { uniqueViolationFields } from "../db/errors.ts";
import { check, type CheckReason } from "../domain/checks.ts";
import type { Feature, Prisma, UsageRecord } from "../generated/prisma/client.ts";

/** How far ahead of now a usage timestamp may be. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const UsageRecordNode = builder.prismaNode("UsageRecord", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    customer: t.relation("customer"),
    feature: t.relation("feature"),
    quantity: t.exposeFloat("quantity"),
    timestamp: t.expose("timestamp", { type: "DateTime" }),
    idempotencyKey: t.exposeString("idempotencyKey", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const usageQuantity = z
  .number()
  .refine(Number.isFinite, "must be a finite number")
  .refine((value) => Math.abs(value) <= 1e12, "must be between -1e12 and 1e12");
const idempotencyKey = text(255);

const RecordUsageInput = builder.inputType("RecordUsageInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    featureKey: t.string({ required: true }).validate(catalogKey),
    quantity: t.float().validate(usageQuantity.nullish()),
    timestamp: t.field({ type: "DateTime" }),
    idempotencyKey: t.string({
      description: "A retried call with the same key records nothing new and returns the first record.",
    }).validate(idempotencyKey.nullish()),
  }),
});

const ConsumeInput = builder.inputType("ConsumeInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    featureKey: t.string({ required: true }).validate(catalogKey),
    quantity: t.float().validate(usageQuantity.refine((value) => value > 0, "must be more than 0").nullish()),
    idempotencyKey: t.string().validate(idempotencyKey.nullish()),
  }),
});

const ConsumeResultType = builder
  .objectRef<{ allowed: boolean; reason: CheckReason; record: UsageRecord | null; entitlement: EvaluatedEntitlement | null }>(
    "ConsumeResult",
  )
  .implement({
    fields: (t) => ({
      allowed: t.exposeBoolean("allowed"),
      reason: t.field({ type: CheckReasonEnum, resolve: (result) => result.reason }),
      record: t.field({
        type: UsageRecordNode,
        nullable: true,
        description: "The usage record written; null when the request was refused.",
        resolve: (result) => result.record,
      }),
      entitlement: t.field({ type: CustomerEntitlementType, nullable: true, resolve: (result) => result.entitlement }),
    }),
  });

async function meteredFeature(context: Context, featureKey: string): Promise<Feature> {
  const feature = await featureByKey(context, featureKey, "input.featureKey");
  if (feature.type !== "METERED") {
    throw invalidInput("input.featureKey", `usage is recorded for METERED features only; "${feature.key}" is ${feature.type}`);
  }
  return feature;
}

/** The record an idempotency key already wrote in this project, if any. */
const recordForKey = (client: Prisma.TransactionClient, projectId: string, key: string) =>
  client.usageRecord.findUnique({ where: { projectId_idempotencyKey: { projectId, idempotencyKey: key } } });

builder.mutationFields((t) => ({
  recordUsage: t.prismaField({
    type: "UsageRecord",
    authScopes: { write: true },
    description: "Records usage of a METERED feature whatever the limit; late events count in the period they fall in.",
    args: { input: t.arg({ type: RecordUsageInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const now = Date.now();
      if (input.timestamp && input.timestamp.getTime() > now + MAX_CLOCK_SKEW_MS) {
        throw invalidInput("input.timestamp", "must not be more than 5 minutes in the future");
      }
      const projectId = projectIdOf(context);
      const customer = await resolveCustomerRef(context, input.customer, "input.customer");
      const feature = await meteredFeature(context, input.featureKey);
      const data = {
        projectId,
        customerId: customer.id,
        featureId: feature.id,
        quantity: input.quantity ?? 1,
        timestamp: input.timestamp ?? new Date(now),
        idempotencyKey: input.idempotencyKey ?? null,
      };
      try {
        return await withChangeEvents(context, [customer.id], "USAGE_CHANGED", () => context.prisma.usageRecord.create({ ...query, data }));
      } catch (error) {
        if (!input.idempotencyKey || !uniqueViolationFields(error)) throw error;
        // A retry: the first record stands.
        return context.prisma.usageRecord.findUniqueOrThrow({
          ...query,
          where: { projectId_idempotencyKey: { projectId, idempotencyKey: input.idempotencyKey } },
        });
      }
    },
  }),
  consumeEntitlement: t.field({
    type: ConsumeResultType,
    authScopes: { write: true },
    description: "Check a hard limit and record the usage in one atomic step.",
    args: { input: t.arg({ type: ConsumeInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const projectId = projectIdOf(context);
      const customer = await resolveCustomerRef(context, input.customer, "input.customer");
      const feature = await meteredFeature(context, input.featureKey);
      const quantity = input.quantity ?? 1;
      const now = new Date();
      const { evaluated } = await evaluateFeature(context, customer.id, feature.key, now);
      const period = evaluated?.entitlement.period ?? null;
      const outcome = await withChangeEvents(context, [customer.id], "USAGE_CHANGED", () => context.prisma.$transaction(async (tx) => {
        // One consumer at a time per (customer, feature): the check and the write see the same usage.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${customer.id}:${feature.id}`}, 0))`;
        if (input.idempotencyKey) {
          const previous = await recordForKey(tx, projectId, input.idempotencyKey);
          // A retry answers as the first call did (a key first used by recordUsage: ENTITLED).
          if (previous) return { allowed: true, reason: (previous.consumeReason ?? "ENTITLED") as CheckReason, record: previous };
        }
        const [{ used } = { used: 0 }] = await tx.$queryRaw<{ used: number }[]>`
          SELECT COALESCE(SUM("quantity"), 0)::float8 AS used FROM "UsageRecord"
          WHERE "customerId" = ${customer.id}::uuid AND "featureId" = ${feature.id}::uuid
            AND "timestamp" >= COALESCE(${period?.start ?? null}::timestamptz, '-infinity')
            AND "timestamp" < COALESCE(${period?.end ?? null}::timestamptz, 'infinity')`;
        const decision = check(evaluated?.entitlement ?? null, Number(used), quantity);
        if (!decision.allowed) return { ...decision, record: null };
        const record = await tx.usageRecord.create({
          data: { projectId, customerId: customer.id, featureId: feature.id, quantity, timestamp: now, idempotencyKey: input.idempotencyKey ?? null, consumeReason: decision.reason },
        });
        return { ...decision, record };
      }));
      // The entitlement as it stands after this step (usage read afresh).
      context.loaders.usage.clearAll();
      const after = await evaluateFeature(context, customer.id, feature.key, now);
      return { ...outcome, entitlement: after.evaluated };
    },
  }),
}));
