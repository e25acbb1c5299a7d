// Usage records: recorded whatever the limit (idempotent by key), one at a time or in batches
// of up to 1,000, or consumed against a hard limit in one atomic step per (customer, feature).
import { builder } from "./builder.ts";
import { CustomerRef } from "./customer.ts";
import { CheckReasonEnum, CustomerEntitlementType } from "./entitlement.ts";
import { catalogKey, text, usageQuantity } from "./inputs.ts";
import { allAsSelected, asSelected } from "./lookup.ts";
import { projectIdOf, scopeOf } from "../context.ts";
import * as usage from "../services/usage.ts";
import type { ConsumeOutcome } from "../services/usage.ts";
import type { UsageRecord } from "../generated/prisma/client.ts";

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

const idempotencyKey = text(255);
const idempotencyKeyDescription =
  "A retried call (same customer and feature) with the same key records nothing new and returns the first record; " +
  "the key used for another customer or feature is ALREADY_EXISTS.";

const RecordUsageInput = builder.inputType("RecordUsageInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    featureKey: t.string({ required: true }).validate(catalogKey),
    quantity: t.float().validate(usageQuantity.nullish()),
    timestamp: t.field({ type: "DateTime" }),
    idempotencyKey: t.string({ description: idempotencyKeyDescription }).validate(idempotencyKey.nullish()),
  }),
});

const ConsumeInput = builder.inputType("ConsumeInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    featureKey: t.string({ required: true }).validate(catalogKey),
    quantity: t.float().validate(usageQuantity.refine((value) => value > 0, "must be more than 0").nullish()),
    idempotencyKey: t.string({ description: idempotencyKeyDescription }).validate(idempotencyKey.nullish()),
  }),
});

const ConsumeResultType = builder.objectRef<ConsumeOutcome>("ConsumeResult").implement({
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

const RecordUsagesResultType = builder.objectRef<{ records: UsageRecord[]; recordedCount: number }>("RecordUsagesResult").implement({
  fields: (t) => ({
    records: t.prismaField({
      type: ["UsageRecord"],
      description: "One per input record, in input order; a repeated idempotency key gives the first record.",
      resolve: (query, result, _args, context) =>
        allAsSelected(query, result.records, (selected) => context.prisma.usageRecord.findMany(selected)),
    }),
    recordedCount: t.exposeInt("recordedCount", { description: "How many records were new (not repeats of an idempotency key)." }),
  }),
});

builder.mutationFields((t) => ({
  recordUsage: t.prismaField({
    type: "UsageRecord",
    authScopes: { write: true },
    description: "Records usage of a METERED feature whatever the limit; late events count in the period they fall in.",
    args: { input: t.arg({ type: RecordUsageInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await usage.recordUsage(scopeOf(context), input), (selected) =>
        context.prisma.usageRecord.findUniqueOrThrow(selected),
      ),
  }),
  recordUsages: t.field({
    type: RecordUsagesResultType,
    authScopes: { write: true },
    description:
      "Up to 1,000 records in one atomic call: all are stored, or none (the error names the record, e.g. records.17.quantity). " +
      "Each follows recordUsage's rules; a key repeated in the call counts once. An empty list records nothing.",
    args: { records: t.arg({ type: [RecordUsageInput], required: true }) },
    resolve: (_root, { records }, context) => usage.recordUsages(scopeOf(context), records),
  }),
  consumeEntitlement: t.field({
    type: ConsumeResultType,
    authScopes: { write: true },
    description: "Check a hard limit and record the usage in one atomic step.",
    args: { input: t.arg({ type: ConsumeInput, required: true }) },
    resolve: (_root, { input }, context) => usage.consumeEntitlement(scopeOf(context), input),
  }),
}));
