// Grants: a value given straight to a customer for one feature (trials, promotions, compensation).
import { builder } from "./builder.ts";
import { GrantKindEnum } from "./enums.ts";
import { creditRemaining } from "../domain/credits.ts";
import { CustomerNode, CustomerRef } from "./customer.ts";
import { catalogKey, globalId, priority, text } from "./inputs.ts";
import { entitlementValueInputFields, entitlementValueOutputFields } from "./entitlement-value.ts";
import { asSelected } from "./lookup.ts";
import { projectIdOf, scopeOf } from "../context.ts";
import { grantInForceWhere } from "../db/rules-in-sql.ts";
import * as grants from "../services/grants.ts";

export const GrantNode = builder.prismaNode("Grant", {
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
    kind: t.field({ type: GrantKindEnum, description: "ALLOWANCE (the default) or CREDIT.", resolve: (grant) => grant.kind }),
    amount: t.exposeFloat("amount", { nullable: true, description: "CREDIT: the amount given once." }),
    remaining: t.float({
      nullable: true,
      description: "CREDIT: what is left of `amount` at `at` (default: now); null for an ALLOWANCE.",
      args: { at: t.arg({ type: "DateTime" }) },
      resolve: async (grant, { at }, context) => {
        if (grant.kind !== "CREDIT" || grant.amount === null) return null;
        const instant = at ?? new Date();
        const drawn = await context.loaders.creditDrawn.load({ grantId: grant.id, at: instant });
        return creditRemaining({ ...grant, grantId: grant.id, amount: grant.amount }, drawn, instant);
      },
    }),
  }),
});
builder.objectFields(GrantNode, (t) => entitlementValueOutputFields(t, (grant) => grant));

const GrantConnection = builder.connectionObject({ type: GrantNode, name: "GrantConnection" }, { name: "GrantEdge" });

builder.prismaObjectField(CustomerNode, "grants", (t) =>
  t.relatedConnection(
    "grants",
    {
      cursor: "id",
      totalCount: true,
      authScopes: { read: true },
      description: "The customer's grants, oldest first; with `activeAt`, only those in force then.",
      args: { activeAt: t.arg({ type: "DateTime" }) },
      query: (args) => ({ where: args.activeAt ? grantInForceWhere(args.activeAt) : {}, orderBy: { id: "asc" } }),
    },
    GrantConnection,
  ),
);

const CreateGrantInput = builder.inputType("CreateGrantInput", {
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, required: true }),
    kind: t.field({ type: GrantKindEnum, description: "Default ALLOWANCE. A CREDIT takes `amount` instead of usageLimit/isUnlimited." }),
    amount: t.float({ description: "CREDIT: the amount given, > 0." }),
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
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await grants.createGrant(scopeOf(context), input), (selected) => context.prisma.grant.findUniqueOrThrow(selected)),
  }),
  voidGrant: t.prismaField({
    type: "Grant",
    authScopes: { write: true },
    description: "Ends the grant at `at` (default: now); its history stays.",
    args: { id: t.arg.id({ required: true }).validate(globalId("Grant")), at: t.arg({ type: "DateTime" }) },
    resolve: async (query, _root, args, context) =>
      asSelected(query, await grants.voidGrant(scopeOf(context), args.id, args.at), (selected) =>
        context.prisma.grant.findUniqueOrThrow(selected),
      ),
  }),
}));
