// Customer tokens for frontend apps: they read one customer's entitlements, nothing else.
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerRef, resolveCustomerRef } from "./customer.ts";
import { projectIdOf } from "../context.ts";
import { issueCustomerToken } from "../auth/customer-tokens.ts";

const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 7 * 24 * 3600;

const CustomerTokenType = builder.objectRef<{ token: string; expiresAt: Date }>("CustomerToken").implement({
  fields: (t) => ({
    token: t.exposeString("token", { description: "A signed token that can only read this one customer's entitlements." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
  }),
});

builder.mutationField("createCustomerToken", (t) =>
  t.field({
    type: CustomerTokenType,
    authScopes: { write: true },
    description: `A token for one customer, valid ttlSeconds (default ${DEFAULT_TTL_SECONDS}, at most ${MAX_TTL_SECONDS}): send it as \`Authorization: Bearer <token>\` to read that customer's entitlements and check them.`,
    args: {
      customer: t.arg({ type: CustomerRef, required: true }),
      ttlSeconds: t.arg.int().validate(z.number().int().min(60, "must be at least 60").max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS}`).nullish()),
    },
    resolve: async (_root, args, context) => {
      const customer = await resolveCustomerRef(context, args.customer, "customer");
      return issueCustomerToken(
        context.customerTokenSecret,
        { projectId: projectIdOf(context), customerId: customer.id },
        args.ttlSeconds ?? DEFAULT_TTL_SECONDS,
      );
    },
  }),
);
