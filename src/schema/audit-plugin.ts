// Runs every mutation in its audit context (src/services/audit.ts): the services' transactions
// write its entry beside what they write. A Pothos plugin, so that no mutation can be added
// without it.
import SchemaBuilder, { BasePlugin, type SchemaTypes } from "@pothos/core";
import { getArgumentValues, type GraphQLFieldResolver } from "graphql";
import type { Context } from "../context.ts";
import { isAudited, runAudited } from "../services/audit.ts";

class AuditPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types["Context"], object>,
    fieldConfig: Parameters<BasePlugin<Types>["wrapResolve"]>[1],
  ): GraphQLFieldResolver<unknown, Types["Context"], object> {
    // Usage recording, the hot path, is not audited: its resolvers are left as they are.
    if (fieldConfig.parentType !== "Mutation" || !isAudited(fieldConfig.name)) return resolver;
    return (parent, args, context, info) => {
      const { caller, prisma, requestId } = context as unknown as Context;
      // Unauthenticated calls are refused before they write anything: nothing to audit.
      if (!caller) return resolver(parent, args, context, info);
      return runAudited(
        prisma,
        {
          projectId: caller.projectId,
          operation: info.fieldName,
          // The arguments as the caller gave them (global IDs, not the rows' ids they decode to).
          args: getArgumentValues(info.parentType.getFields()[info.fieldName]!, info.fieldNodes[0]!, info.variableValues),
          actor: caller.apiKey ? { keyPrefix: caller.apiKey.prefix, keyName: caller.apiKey.name } : null,
          requestId,
        },
        async () => resolver(parent, args, context, info),
      );
    };
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      audit: AuditPlugin<Types>;
    }
  }
}

export const auditPlugin = "audit";
SchemaBuilder.registerPlugin(auditPlugin, AuditPlugin);
