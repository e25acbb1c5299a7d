// Builder configuration only: plugins, scalars' TypeScript shapes, auth scopes.
import SchemaBuilder from "@pothos/core";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin, { type AuthFailure } from "@pothos/plugin-scope-auth";
import ValidationPlugin from "@pothos/plugin-validation";
import type PrismaTypes from "../generated/pothos-types.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { getDatamodel } from "../generated/pothos-types.ts";
import type { Context } from "../context.ts";
import { loadNodes, nodeTypeOf } from "./nodes.ts";
import { wellFormedInputPlugin } from "./well-formed.ts";
import { auditPlugin } from "./audit-plugin.ts";
import { isRecordNotFound } from "../db/errors.ts";
import { ApiError, ErrorCode, notFound, permissionDenied, unauthenticated, validationFailed } from "../errors.ts";
import { PAGE_SIZE_LIMITS } from "../limits/operation-cost.ts";

/** Loading a node of another project (or a vanished one) is a miss, like an unknown id. */
const nullWhenNotFound = (error: unknown): null => {
  if (isRecordNotFound(error)) return null;
  throw error;
};

/** The scope a failed check asked for (the first one, when several were acceptable). */
function failedScope(failure: AuthFailure): string {
  if ("scope" in failure && typeof failure.scope === "string") return failure.scope;
  if ("failures" in failure && failure.failures[0]) return failedScope(failure.failures[0]);
  return "read";
}

export type JsonObject = Prisma.InputJsonObject;

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { read: boolean; write: boolean; admin: boolean; customerToken: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: JsonObject; Output: unknown };
    ID: { Input: string; Output: string };
  };
  Connection: { totalCount: number | (() => number | Promise<number>) };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin, wellFormedInputPlugin, auditPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      read: context.caller?.scopes.has("READ") ?? false,
      write: context.caller?.scopes.has("WRITE") ?? false,
      admin: context.caller?.scopes.has("ADMIN") ?? false,
      customerToken: context.caller?.customerId !== undefined,
    }),
    unauthorizedError: (_parent, context, _info, result) => {
      if (!context.caller) return unauthenticated();
      if (context.caller.customerId !== undefined) {
        return new ApiError(ErrorCode.PERMISSION_DENIED, "A customer token may only read its customer's entitlements and check them.");
      }
      return permissionDenied(failedScope(result.failure).toUpperCase());
    },
  },
  prisma: {
    client: (context) => context.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    maxConnectionSize: PAGE_SIZE_LIMITS.maxPageSize,
    defaultConnectionSize: PAGE_SIZE_LIMITS.defaultPageSize,
    onUnusedQuery: process.env.NODE_ENV === "production" ? null : "error",
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // Another project's object answers exactly like an unknown one: NOT_FOUND.
    nodeQueryOptions: {
      authScopes: { read: true },
      resolve: async (_root, { id }, _context, info, resolveNode) => {
        const node = nodeTypeOf(info, id) ? await Promise.resolve(resolveNode(id)).catch(nullWhenNotFound) : null;
        if (!node) throw notFound("Node", "id");
        return node;
      },
    },
    nodesQueryOptions: {
      authScopes: { read: true },
      resolve: (_root, { ids }, context, info) => {
        const loaded = loadNodes(ids, context, info);
        return ids.map(async (_id, index) => (await loaded)[index] ?? Promise.reject(notFound("Node", `ids.${index}`)));
      },
    },
  },
  validation: {
    validationError: (result) =>
      validationFailed(
        result.issues.map((issue) => ({
          field: (issue.path ?? []).map((segment) => (typeof segment === "object" ? String(segment.key) : String(segment))).join("."),
          message: issue.message,
        })),
      ),
  },
});

builder.globalConnectionField("totalCount", (t) =>
  t.int({
    nullable: false,
    resolve: (connection) => (typeof connection.totalCount === "function" ? connection.totalCount() : connection.totalCount),
  }),
);
