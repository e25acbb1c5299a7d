// The event log's storage (docs/rules.md §6): appending a transaction's events, reading them
// back in order, and dropping those past retention.
//
// Ids come from one sequence, but a reader following the log ("everything after id N") must
// never see a smaller id commit after a larger one, or it would skip it. So an append takes
// its project's event lock (a transaction-scoped advisory lock) before it draws ids and holds
// it until commit: within a project, events are numbered in commit order. The lock is taken
// at the end of the writer's transaction, when everything else is done, so it is held for
// the length of a commit.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { EventType, LoggedEvent, NewEvent } from "../events/logged-event.ts";

type Client = PrismaClient | Prisma.TransactionClient;

export interface EventRow {
  id: bigint;
  projectId: string;
  customerId: string;
  type: EventType;
  featureKeys: string[];
  data: unknown;
  occurredAt: Date;
}

export const asLoggedEvent = (row: EventRow): LoggedEvent =>
  ({
    id: row.id.toString(),
    projectId: row.projectId,
    customerId: row.customerId,
    type: row.type,
    featureKeys: row.featureKeys,
    occurredAt: row.occurredAt.toISOString(),
    data: row.data,
  }) as LoggedEvent;

/**
 * Logs `events` of one project, in their order, in the caller's transaction (which must be
 * one: the lock lasts until it ends), with one webhook delivery per enabled endpoint whose
 * event types include the event's. One statement.
 */
export async function appendEvents(tx: Prisma.TransactionClient, projectId: string, events: readonly NewEvent[]): Promise<LoggedEvent[]> {
  if (events.length === 0) return [];
  const rows = JSON.stringify(
    events.map((event) => ({
      customerId: event.customerId,
      type: event.type,
      featureKeys: event.featureKeys,
      data: event.data,
      occurredAt: event.occurredAt,
    })),
  );
  const logged = await tx.$queryRaw<EventRow[]>`
    WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended(${`event-log:${projectId}`}, 0))),
    appended AS (
      INSERT INTO "LoggedEvent" ("projectId", "customerId", "type", "featureKeys", "data", "occurredAt")
      SELECT ${projectId}::uuid, e."customerId", e."type", e."featureKeys", e."data", e."occurredAt"
      FROM locked, ROWS FROM (
        jsonb_to_recordset(${rows}::jsonb) AS ("customerId" uuid, "type" "EventType", "featureKeys" text[], "data" jsonb, "occurredAt" timestamptz)
      ) WITH ORDINALITY AS e("customerId", "type", "featureKeys", "data", "occurredAt", n)
      ORDER BY e.n
      RETURNING "id", "projectId", "customerId", "type", "featureKeys", "data", "occurredAt"
    ),
    queued AS (
      INSERT INTO "WebhookDelivery" ("id", "endpointId", "eventId")
      SELECT gen_random_uuid(), w."id", a."id"
      FROM appended a
      JOIN "WebhookEndpoint" w ON w."projectId" = ${projectId}::uuid AND w."status" = 'ENABLED' AND a."type" = ANY (w."eventTypes")
    )
    SELECT * FROM appended ORDER BY "id"`;
  return logged.map(asLoggedEvent);
}

export interface EventFilter {
  customerId?: string | null;
  featureKeys?: readonly string[] | null;
  types?: readonly EventType[] | null;
}

const filterWhere = (projectId: string, filter: EventFilter): Prisma.LoggedEventWhereInput => ({
  projectId,
  ...(filter.customerId ? { customerId: filter.customerId } : {}),
  ...(filter.featureKeys ? { featureKeys: { hasSome: [...filter.featureKeys] } } : {}),
  ...(filter.types ? { type: { in: [...filter.types] } } : {}),
});

/** Up to `limit` logged events of the project after `afterId` (exclusive) matching `filter`, oldest first. */
export async function readEvents(
  client: Client,
  projectId: string,
  afterId: bigint | null,
  filter: EventFilter,
  limit: number,
): Promise<LoggedEvent[]> {
  const rows = await client.loggedEvent.findMany({
    where: { ...filterWhere(projectId, filter), ...(afterId === null ? {} : { id: { gt: afterId } }) },
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map(asLoggedEvent);
}

/** Whether the project's log holds this event: an `after` must name one (not purged, not another project's). */
export async function holdsEvent(client: Client, projectId: string, id: bigint): Promise<boolean> {
  return (await client.loggedEvent.count({ where: { projectId, id } })) === 1;
}

/** The project's latest event id (0 for an empty log): where a reader of what comes next starts. */
export async function latestEventId(client: Client, projectId: string): Promise<bigint> {
  const found = await client.loggedEvent.findFirst({ where: { projectId }, orderBy: { id: "desc" }, select: { id: true } });
  return found?.id ?? 0n;
}

/**
 * The events after each project's position, oldest first per project, at most `limit` per
 * project: one statement for every project an instance follows.
 */
export async function eventsAfter(client: Client, positions: ReadonlyMap<string, bigint>, limit: number): Promise<LoggedEvent[]> {
  if (positions.size === 0) return [];
  const projectIds = [...positions.keys()];
  const afterIds = projectIds.map((projectId) => (positions.get(projectId) ?? 0n).toString());
  const rows = await client.$queryRaw<EventRow[]>`
    SELECT e."id", e."projectId", e."customerId", e."type", e."featureKeys", e."data", e."occurredAt"
    FROM unnest(${projectIds}::uuid[], ${afterIds}::bigint[]) AS p("projectId", "afterId")
    CROSS JOIN LATERAL (
      SELECT * FROM "LoggedEvent" l WHERE l."projectId" = p."projectId" AND l."id" > p."afterId" ORDER BY l."id" LIMIT ${limit}
    ) e
    ORDER BY e."id"`;
  return rows.map(asLoggedEvent);
}

/** Drops events logged before `before` (their deliveries with them), `batch` at a time; how many went. */
export async function purgeEvents(client: Client, before: Date, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await client.$executeRaw`
      DELETE FROM "LoggedEvent" WHERE "id" IN (SELECT "id" FROM "LoggedEvent" WHERE "loggedAt" < ${before} ORDER BY "id" LIMIT ${batch})`;
    total += deleted;
    if (deleted < batch) return total;
  }
}

/** The largest id the log's bigint column holds. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

/** A client-given event id, or null when it is not one. */
export function parseEventId(value: string): bigint | null {
  if (!/^[1-9][0-9]{0,18}$/.test(value)) return null;
  const id = BigInt(value);
  return id <= MAX_EVENT_ID ? id : null;
}
