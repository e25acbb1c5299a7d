// The audit log (docs/rules.md §9): every successful mutation but usage recording, newest
// first, for ADMIN keys. Entries are written by the services (src/services/audit.ts).
import { builder } from "./builder.ts";
import { text } from "./inputs.ts";
import { projectIdOf } from "../context.ts";
import { auditWhere } from "../services/audit.ts";

const AuditEntryNode = builder.prismaNode("AuditEntry", {
  id: { field: "id" },
  authScopes: { admin: true },
  runScopesOnType: true,
  findUnique: (id, context) => ({ id, projectId: projectIdOf(context) }),
  fields: (t) => ({
    operation: t.exposeString("operation", { description: "The mutation's field name, e.g. setPlanEntitlement." }),
    entityId: t.exposeID("entityId", { nullable: true, description: "Global ID of the object written (its first one, when several)." }),
    actorKeyPrefix: t.exposeString("actorKeyPrefix", {
      nullable: true,
      description: "The credential that wrote it: the API key's prefix, never the key.",
    }),
    actorKeyName: t.exposeString("actorKeyName", { nullable: true }),
    input: t.expose("input", { type: "JSON", description: "The validated input, credentials removed." }),
    requestId: t.exposeString("requestId"),
    occurredAt: t.expose("occurredAt", { type: "DateTime" }),
  }),
});

const AuditEntryConnection = builder.connectionObject({ type: AuditEntryNode, name: "AuditEntryConnection" }, { name: "AuditEntryEdge" });

builder.queryField("auditLog", (t) =>
  t.prismaConnection(
    {
      type: "AuditEntry",
      cursor: "id",
      authScopes: { admin: true },
      description: "ADMIN: every successful mutation but usage recording, newest first.",
      args: {
        entityId: t.arg.id({ description: "Only the entries about this object (its global ID)." }),
        operation: t.arg.string({ description: "Only this mutation's entries." }).validate(text(100).nullish()),
      },
      resolve: (query, _root, args, context) =>
        context.prisma.auditEntry.findMany({
          ...query,
          where: auditWhere(projectIdOf(context), { entityId: args.entityId, operation: args.operation }),
          orderBy: { id: "desc" },
        }),
      totalCount: (_root, args, context) =>
        context.prisma.auditEntry.count({
          where: auditWhere(projectIdOf(context), { entityId: args.entityId, operation: args.operation }),
        }),
    },
    AuditEntryConnection,
  ),
);
