// Customer tokens for frontend apps: they read one customer's entitlements, nothing else.
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerRef } from "./customer.ts";
import { scopeOf } from "../context.ts";
import {
  createCustomerToken,
  DEFAULT_TOKEN_TTL_SECONDS as DEFAULT_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS as MAX_TTL_SECONDS,
} from "../services/access.ts";

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
      ttlSeconds: t.arg
        .int()
        .validate(z.number().int().min(60, "must be at least 60").max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS}`).nullish()),
    },
    resolve: (_root, args, context) => createCustomerToken(scopeOf(context), context.customerTokenSecret, args.customer, args.ttlSeconds),
  }),
);
