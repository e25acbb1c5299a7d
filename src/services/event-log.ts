// Reading the event log (docs/rules.md §6): `entitlementEvents`, for services that poll or
// catch up, and what an `after` must be.
import { holdsEvent, parseEventId, readEvents } from "../db/event-log.ts";
import type { EntitlementsChangedEvent } from "../events/logged-event.ts";
import { invalidInput, invalidOperation } from "../errors.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import type { ProjectScope } from "./scope.ts";

/** An `after` argument as an event id: VALIDATION_ERROR naming `field` when it is not one. */
export function parseAfter(after: string | null | undefined, field: string): bigint | null {
  if (after === null || after === undefined) return null;
  const id = parseEventId(after);
  if (id === null) throw invalidInput(field, "must be an event id (an EntitlementsChangedEvent's or UsageThresholdEvent's `id`)");
  return id;
}

/** Refuses an `after` the project's log does not hold: unknown, or older than the retention. */
export async function requireLoggedEvent(scope: ProjectScope, id: bigint, field: string): Promise<void> {
  if (!(await holdsEvent(scope.prisma, scope.projectId, id))) {
    throw invalidOperation(
      `No event ${id} in this project's log: it is unknown, or older than the log's retention (EVENT_RETENTION_DAYS)`,
      field,
    );
  }
}

/** A page of the log's entitlements-changed events, oldest first, after `after`. */
export async function listEvents(
  scope: ProjectScope,
  input: { customer?: CustomerRef | null; featureKeys?: readonly string[] | null; after: bigint | null; first: number },
): Promise<{ events: EntitlementsChangedEvent[]; hasNextPage: boolean }> {
  const customerId = input.customer ? (await resolveCustomerRef(scope, input.customer, "customer")).id : (scope.visibleCustomerId ?? null);
  if (input.after !== null) await requireLoggedEvent(scope, input.after, "after");
  const found = await readEvents(
    scope.prisma,
    scope.projectId,
    input.after,
    { customerId, featureKeys: input.featureKeys, types: ["ENTITLEMENTS_CHANGED"] },
    input.first + 1,
  );
  return { events: found.slice(0, input.first) as EntitlementsChangedEvent[], hasNextPage: found.length > input.first };
}
