// The audit log (docs/rules.md §9): who did what, and when. Every successful mutation but
// usage recording leaves one entry, written in the mutation's own transaction, so that a
// refused or rolled-back mutation leaves none and a committed one always has its entry.
//
// The GraphQL layer runs each mutation inside an audit context (runAudited): the operation,
// its validated input, the caller's key and the request id. The services' transactions
// (withChangeEvents, catalog writes, auditedWrite) write the entry with the object they
// wrote; a mutation none of them wrote for (a customer token, which writes nothing else) gets
// its entry once it has succeeded.
import { AsyncLocalStorage } from "node:async_hooks";
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { ProjectScope } from "./scope.ts";

/** The mutations whose records are their own log. */
const NOT_AUDITED: ReadonlySet<string> = new Set(["recordUsage", "recordUsages", "consumeEntitlement"]);

/** Whether a mutation leaves an audit entry (usage recording does not). */
export const isAudited = (operation: string) => !NOT_AUDITED.has(operation);

/** Input fields that carry credentials: never stored. */
const SECRET_FIELDS = /^(secret|signingSecret|token|apiKey|password)$/i;

interface AuditContext {
  projectId: string;
  operation: string;
  input: Prisma.InputJsonValue;
  actorKeyPrefix: string | null;
  actorKeyName: string | null;
  requestId: string;
  /** Set once a transaction has written the entry. */
  written: boolean;
}

const current = new AsyncLocalStorage<AuditContext>();

/** A URL without what may be a credential in it: its user and password, and its query. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password && !parsed.search) return url;
    parsed.username = "";
    parsed.password = "";
    if (parsed.search) parsed.search = "?(removed)";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** The input as stored: JSON, dates as ISO strings, credential fields left out at any depth, URLs without credentials. */
function auditedInput(value: unknown): Prisma.InputJsonValue {
  const strip = (item: unknown): unknown => {
    if (item instanceof Date) return item.toISOString();
    if (typeof item === "string" && /^https?:\/\//i.test(item)) return withoutCredentials(item);
    if (Array.isArray(item)) return item.map(strip);
    if (item && typeof item === "object") {
      return Object.fromEntries(
        Object.entries(item)
          .filter(([key, field]) => !SECRET_FIELDS.test(key) && field !== undefined)
          .map(([key, field]) => [key, strip(field)]),
      );
    }
    return item;
  };
  return (strip(value) ?? {}) as Prisma.InputJsonValue;
}

export interface AuditedMutation {
  projectId: string;
  operation: string;
  args: unknown;
  actor: { keyPrefix: string; keyName: string } | null;
  requestId: string;
}

/**
 * Runs a mutation's resolver in its audit context; once it has succeeded, writes the entry
 * itself if no transaction of the mutation did.
 */
export async function runAudited<T>(prisma: PrismaClient, mutation: AuditedMutation, resolve: () => Promise<T>): Promise<T> {
  if (!isAudited(mutation.operation)) return resolve();
  const context: AuditContext = {
    projectId: mutation.projectId,
    operation: mutation.operation,
    input: auditedInput(mutation.args),
    actorKeyPrefix: mutation.actor?.keyPrefix ?? null,
    actorKeyName: mutation.actor?.keyName ?? null,
    requestId: mutation.requestId,
    written: false,
  };
  const result = await current.run(context, resolve);
  if (!context.written) await prisma.auditEntry.create({ data: entryOf(context, null) });
  return result;
}

/** The object an entry is about: its GraphQL type and row id. */
export type AuditedEntity = { type: string; id: string } | null;

const entryOf = (context: AuditContext, entity: AuditedEntity) => ({
  projectId: context.projectId,
  operation: context.operation,
  entityId: entity ? encodeGlobalID(entity.type, entity.id) : null,
  actorKeyPrefix: context.actorKeyPrefix,
  actorKeyName: context.actorKeyName,
  input: context.input,
  requestId: context.requestId,
});

/** What a write's entry is about: a GraphQL type (the row written is the entity), or how to find it in what the write answered. */
export type Audited<T> = string | ((result: T) => AuditedEntity);

/** In a mutation's transaction, after its write: the entry, about what `audited` names in `result`. */
export const auditWrite = <T>(tx: Prisma.TransactionClient, audited: Audited<T>, result: T) =>
  auditIn(tx, typeof audited === "string" ? { type: audited, id: (result as { id: string }).id } : audited(result));

/** In a mutation's transaction: writes its entry (once), about `entity`. Outside a mutation (a job), nothing. */
export async function auditIn(tx: Prisma.TransactionClient, entity: AuditedEntity): Promise<void> {
  const context = current.getStore();
  if (!context || context.written) return;
  await tx.auditEntry.create({ data: entryOf(context, entity) });
  context.written = true;
}

/** A write of one row in a transaction of its own with the mutation's entry, about that row (as a `type`). */
export const auditedWrite = <T extends { id: string }>(
  scope: ProjectScope,
  type: string,
  write: (tx: Prisma.TransactionClient) => Promise<T>,
) =>
  scope.prisma.$transaction(async (tx) => {
    const row = await write(tx);
    await auditIn(tx, { type, id: row.id });
    return row;
  });

export interface AuditFilters {
  /** Row id and GraphQL type of the entity (decoded by the caller). */
  entityId?: string | null;
  operation?: string | null;
}

/** The where clause of the project's entries matching `filters` (newest first is the caller's order). */
export const auditWhere = (projectId: string, filters: AuditFilters): Prisma.AuditEntryWhereInput => ({
  projectId,
  ...(filters.entityId ? { entityId: filters.entityId } : {}),
  ...(filters.operation ? { operation: filters.operation } : {}),
});
