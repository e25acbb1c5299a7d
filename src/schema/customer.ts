// Customers: addressed by global ID or by the caller's own externalId.
import { builder } from "./builder.ts";
import { email, externalId, globalId, text } from "./inputs.ts";
import { projectIdOf, scopeOf, type Context } from "../context.ts";
import { asSelected, byIdOrKey, foundOrThrow } from "./lookup.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import * as customers from "../services/customers.ts";
import { requireVisibleCustomer } from "../services/scope.ts";

export const CustomerNode = builder.prismaNode("Customer", {
  id: { field: "id" },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    externalId: t.exposeString("externalId"),
    name: t.exposeString("name", { nullable: true, authScopes: { read: true } }),
    email: t.exposeString("email", { nullable: true, authScopes: { read: true } }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true, authScopes: { read: true } }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

const CustomerConnection = builder.connectionObject({ type: CustomerNode, name: "CustomerConnection" }, { name: "CustomerEdge" });

export const CustomerRef = builder.inputType("CustomerRef", {
  description: "A customer by global ID or by externalId (exactly one).",
  fields: (t) => ({
    id: t.id().validate(globalId("Customer").nullish()),
    externalId: t.string().validate(externalId.nullish()),
  }),
});

const CreateCustomerInput = builder.inputType("CreateCustomerInput", {
  fields: (t) => ({
    externalId: t.string({ required: true }).validate(externalId),
    name: t.string().validate(text(200).nullish()),
    email: t.string().validate(email.nullish()),
    metadata: t.field({ type: "JSON" }),
  }),
});

const UpdateCustomerInput = builder.inputType("UpdateCustomerInput", {
  fields: (t) => ({
    id: t.id({ required: true }).validate(globalId("Customer")),
    name: t.string().validate(text(200).nullish()),
    email: t.string().validate(email.nullish()),
    metadata: t.field({ type: "JSON" }),
  }),
});

/** `contains` becomes a LIKE pattern: the term's own %, _ and \ must match only themselves. */
const likeLiteral = (term: string) => term.replace(/[\\%_]/g, (character) => `\\${character}`);

const customerFilter = (search: string | null | undefined, context: Context): Prisma.CustomerWhereInput => {
  const trimmed = search?.trim();
  const term = trimmed ? likeLiteral(trimmed) : undefined;
  return {
    projectId: projectIdOf(context),
    ...(term
      ? {
          OR: [
            { externalId: { contains: term, mode: "insensitive" } },
            { name: { contains: term, mode: "insensitive" } },
            { email: { contains: term, mode: "insensitive" } },
          ],
        }
      : {}),
  };
};

builder.queryFields((t) => ({
  customer: t.prismaField({
    type: "Customer",
    nullable: true,
    authScopes: { read: true, customerToken: true },
    description: "A customer by global ID or by externalId (a customer token: its own customer only).",
    args: {
      id: t.arg.id().validate(globalId("Customer").nullish()),
      externalId: t.arg.string().validate(externalId.nullish()),
    },
    resolve: async (query, _root, args, context) => {
      const lookup = byIdOrKey(args, "externalId");
      // Asked for nothing stored with it (relations): the record alone, from the cache.
      const customer =
        Object.keys(query).length === 0
          ? await (args.id
              ? context.loaders.customerById.load(args.id)
              : context.loaders.customerByExternalId.load(String(args.externalId)))
          : await context.prisma.customer.findFirst({ ...query, where: { projectId: projectIdOf(context), ...lookup.where } });
      requireVisibleCustomer(scopeOf(context), customer?.id);
      return foundOrThrow("Customer", lookup, customer);
    },
  }),
  customers: t.prismaConnection(
    {
      type: "Customer",
      cursor: "id",
      authScopes: { read: true },
      description: "The project's customers, oldest first; `search` matches externalId, name or email.",
      args: { search: t.arg.string().validate(text(200).nullish()) },
      resolve: (query, _root, args, context) => context.prisma.customer.findMany({ ...query, where: customerFilter(args.search, context) }),
      totalCount: (_root, args, context) => context.prisma.customer.count({ where: customerFilter(args.search, context) }),
    },
    CustomerConnection,
  ),
}));

builder.mutationFields((t) => ({
  createCustomer: t.prismaField({
    type: "Customer",
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateCustomerInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await customers.createCustomer(scopeOf(context), input), (selected) =>
        context.prisma.customer.findUniqueOrThrow(selected),
      ),
  }),
  updateCustomer: t.prismaField({
    type: "Customer",
    authScopes: { write: true },
    args: { input: t.arg({ type: UpdateCustomerInput, required: true }) },
    resolve: async (query, _root, { input }, context) =>
      asSelected(query, await customers.updateCustomer(scopeOf(context), input), (selected) =>
        context.prisma.customer.findUniqueOrThrow(selected),
      ),
  }),
}));
