// API keys (ADMIN): listed without their secrets; a new key's secret is shown once.
import { z } from "zod";
import { builder } from "./builder.ts";
import { ApiKeyScopeEnum } from "./enums.ts";
import { globalId, text } from "./inputs.ts";
import { cachedRowsWrite, projectIdOf } from "../context.ts";
import { generateApiKeySecret, hashApiKey, visiblePrefix } from "../auth/api-keys.ts";
import { invalidOperation, notFound } from "../errors.ts";
import type { ApiKey } from "../generated/prisma/client.ts";

const ApiKeyNode = builder.prismaNode("ApiKey", {
  id: { field: "id" },
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  authScopes: { admin: true },
  runScopesOnType: true,
  fields: (t) => ({
    name: t.exposeString("name"),
    prefix: t.exposeString("prefix", {
      description: "The first characters of the key, for recognising it; the key itself is shown once.",
    }),
    scopes: t.field({ type: [ApiKeyScopeEnum], resolve: (key) => key.scopes }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
  }),
});

const CreatedApiKey = builder.objectRef<{ apiKey: ApiKey; secret: string }>("CreatedApiKey").implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyNode, resolve: (created) => created.apiKey }),
    secret: t.exposeString("secret", { description: "The secret, shown only here." }),
  }),
});

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({
    name: t.string({ required: true }).validate(text(100)),
    scopes: t.field({ type: [ApiKeyScopeEnum], required: true }).validate(z.array(z.enum(["READ", "WRITE", "ADMIN"])).min(1, "give at least one scope")),
  }),
});

builder.queryField("apiKeys", (t) =>
  t.prismaField({
    type: ["ApiKey"],
    authScopes: { admin: true },
    description: "The project's API keys (ADMIN).",
    resolve: (query, _root, _args, context) =>
      context.prisma.apiKey.findMany({ ...query, where: { projectId: projectIdOf(context) }, orderBy: { id: "asc" } }),
  }),
);

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const secret = generateApiKeySecret();
      const apiKey = await context.prisma.apiKey.create({
        data: {
          projectId: projectIdOf(context),
          name: input.name,
          prefix: visiblePrefix(secret),
          hash: hashApiKey(secret),
          scopes: [...new Set(input.scopes)],
        },
      });
      return { apiKey, secret };
    },
  }),
  revokeApiKey: t.prismaField({
    type: "ApiKey",
    authScopes: { admin: true },
    description: "Revokes a key at once. The project's last active ADMIN key cannot be revoked.",
    args: { id: t.arg.id({ required: true }).validate(globalId("ApiKey")) },
    resolve: async (query, _root, args, context) => {
      const projectId = projectIdOf(context);
      // Every instance forgets the project's cached keys: the revoked one stops working at once.
      return cachedRowsWrite(context, { apiKeys: true }, () => context.prisma.$transaction(async (tx) => {
        const key = await tx.apiKey.findFirst({ where: { id: args.id, projectId } });
        if (!key) throw notFound("API key", "id");
        if (key.revokedAt) throw invalidOperation("The API key is already revoked", "id");
        if (key.scopes.includes("ADMIN")) {
          const activeKeys = await tx.apiKey.findMany({ where: { projectId, revokedAt: null, id: { not: key.id } } });
          if (!activeKeys.some((other) => other.scopes.includes("ADMIN"))) {
            throw invalidOperation("This is the project's last active ADMIN key", "id");
          }
        }
        return tx.apiKey.update({ ...query, where: { id: key.id }, data: { revokedAt: new Date() } });
      }));
    },
  }),
}));
