// API keys (ADMIN): listed without their secrets; a new key's secret is shown once.
import { z } from "zod";
import { builder } from "./builder.ts";
import { ApiKeyScopeEnum } from "./enums.ts";
import { globalId, text } from "./inputs.ts";
import { asSelected } from "./lookup.ts";
import { projectIdOf, scopeOf } from "../context.ts";
import type { ApiKey } from "../generated/prisma/client.ts";
import * as access from "../services/access.ts";

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
    scopes: t
      .field({ type: [ApiKeyScopeEnum], required: true })
      .validate(z.array(z.enum(["READ", "WRITE", "ADMIN"])).min(1, "give at least one scope")),
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
    resolve: (_root, { input }, context) => access.createApiKey(scopeOf(context), input),
  }),
  revokeApiKey: t.prismaField({
    type: "ApiKey",
    authScopes: { admin: true },
    description: "Revokes a key at once. The project's last active ADMIN key cannot be revoked.",
    args: { id: t.arg.id({ required: true }).validate(globalId("ApiKey")) },
    resolve: async (query, _root, args, context) =>
      asSelected(query, await access.revokeApiKey(scopeOf(context), args.id), (selected) =>
        context.prisma.apiKey.findUniqueOrThrow(selected),
      ),
  }),
}));
