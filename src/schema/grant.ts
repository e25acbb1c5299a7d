// Grants: a value given straight to a customer for one feature (trials, promotions, compensation).
import { builder } from "./builder.ts";
import { CustomerNode, CustomerRef, resolveCustomerRef } from "./customer.ts";
import { featureByKey } from "./feature.ts";
import { catalogKey, globalId, priority, text } from "./inputs.ts";
import { entitlementValueInputFields, entitlementValueOutputFields, pickValueInput, requireCompleteValue } from "./entitlement-value.ts";
import { projectIdOf } from "../context.ts";
import { withChangeEvents } from "../events/track.ts";
import { invalidInput, invalidOperation, notFound } from "../errors.ts";
import { isBefore } from "../domain/time.ts";
import type { Prisma } from "../generated/prisma/client.ts";

const GrantNode = builder.prismaNode("Grant", {
  id: { field: "id" },
  authScopes: { read: true },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    customer: t.relation("customer"),
    feature: t.relation("feature"),
    priority: t.exposeInt("priority", { description: "Higher first, when ordering sources." }),
    effectiveAt: t.expose("effectiveAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    voidedAt: t.expose("voidedAt", { type: "DateTime", nullable: true }),
    reason: t.exposeString("reason", { nullable: true }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
builder.objectFields(GrantNode, (t) => entitlementValueOutputFields(t, (grant) => grant));

const GrantConnection = builder.connectionObject({ type: GrantNode, name: "GrantConnection" }, { name: "GrantEdge" });

/** Grants in force at t: effective, not expired, not voided (half-open windows). */
export const grantActiveWhere = (t: Date): Prisma.GrantWhereInput => ({
  effectiveAt: { lte: t },
  AND: [{ OR: [{ expiresAt: null }, { expiresAt: { gt: t } }] }, { OR: [{ voidedAt: null }, { voidedAt: { gt: t } }] }],
});

builder.prismaObjectField(CustomerNode, "grants", (t) =>
  t.relatedConnection(
    "grants",
    {
      cursor: "id",
      totalCount: true,
      authScopes: { read: true },
      description: "The customer's grants, oldest first; with `activeAt`, only those in force then.",
      args: { activeAt: t.arg({ type: "DateTime" }) },
      query: (args) => ({ where: args.activeAt ? grantActiveWhere(args.activeAt) : {}, orderBy: { id: "asc" } }),
    },
    GrantConnection,
  ),
);

const CreateGrantInput = builder.inputType("CreateGrantInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    featureKey: t.string({ required: true }).validate(catalogKey),
    ...entitlementValueInputFields(t),
    priority: t.int().validate(priority.nullish()),
    effectiveAt: t.field({ type: "DateTime" }),
    expiresAt: t.field({ type: "DateTime" }),
    reason: t.string().validate(text(500).nullish()),
    metadata: t.field({ type: "JSON" }),
  }),
});

builder.mutationFields((t) => ({
  createGrant: t.prismaField({
    type: "Grant",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateGrantInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const effectiveAt = input.effectiveAt ?? new Date();
      if (input.expiresAt && !isBefore(effectiveAt, input.expiresAt)) {
        throw invalidInput("input.expiresAt", `must be after effectiveAt (${effectiveAt.toISOString()})`);
      }
      const customer = await resolveCustomerRef(context, input.customer, "input.customer");
      const feature = await featureByKey(context, input.featureKey, "input.featureKey");
      if (feature.status === "ARCHIVED") {
        throw invalidOperation(`Feature "${feature.key}" is archived and cannot be granted anew`, "input.featureKey");
      }
      const value = requireCompleteValue(feature, pickValueInput(input));
      return withChangeEvents(context, [customer.id], "GRANT_CHANGED", () => context.prisma.grant.create({
        ...query,
        data: {
          projectId: projectIdOf(context),
          customerId: customer.id,
          featureId: feature.id,
          ...value,
          priority: input.priority ?? 0,
          effectiveAt,
          expiresAt: input.expiresAt ?? null,
          reason: input.reason ?? null,
          metadata: input.metadata ?? undefined,
        },
      }));
    },
  }),
  voidGrant: t.prismaField({
    type: "Grant",
    authScopes: { write: true },
    description: "Ends the grant at `at` (default: now); its history stays.",
    args: { id: t.arg.id({ required: true }).validate(globalId("Grant")), at: t.arg({ type: "DateTime" }) },
    resolve: async (query, _root, args, context) => {
      const grant = await context.prisma.grant.findFirst({ where: { id: args.id, projectId: projectIdOf(context) } });
      if (!grant) throw notFound("Grant", "id");
      if (grant.voidedAt && grant.voidedAt.getTime() <= Date.now()) {
        throw invalidOperation(`The grant was already voided at ${grant.voidedAt.toISOString()}`, "id");
      }
      return withChangeEvents(context, [grant.customerId], "GRANT_CHANGED", () =>
        context.prisma.grant.update({ ...query, where: { id: grant.id }, data: { voidedAt: args.at ?? new Date() } }),
      );
    },
  }),
}));
