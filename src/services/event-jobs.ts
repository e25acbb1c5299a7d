// Work that logs events after the response (docs/rules.md §6): a catalog edit reaching every
// customer of a plan, a window of scheduled transitions. Each is a durable job row, queued in
// the transaction of what causes it (so a committed edit always gets its fan-out, whatever
// happens to the instance that made it), and evaluated page by page: a page's events and the
// job's progress past it commit together, so a job taken over after its instance died goes
// on from the last committed page, and no event is logged twice.
import type { EntitlementValue } from "../domain/entitlement-value.ts";
import type { PlanEntitlementRow } from "../domain/entitlements.ts";
import type { Feature, Prisma } from "../generated/prisma/client.ts";
import type { NewEvent } from "../events/logged-event.ts";
import { notEndedByWhere, notRemovedWhere, onPlanWhere } from "../db/rules-in-sql.ts";
import { featureInfo } from "../loaders/customer-state.ts";
import { eventsBetween, loadersIn, lockCustomers, type Transaction } from "./changes.ts";
import { observeCustomer } from "./entitlements.ts";
import { announceTransitions, findTransitions } from "./transitions.ts";
import type { CustomerState } from "../domain/entitlements.ts";

/** The jobs there are, and what each needs to know. */
export type EventJobInput =
  | {
      kind: "plan-entitlement";
      projectId: string;
      planId: string;
      featureId: string;
      before: EntitlementValue | null;
      after: EntitlementValue | null;
    }
  | { kind: "feature"; projectId: string; before: Jsonable<Feature>; after: Jsonable<Feature> }
  | { kind: "transitions"; from: string; to: string };

type Jsonable<T> = { [Key in keyof T]: T[Key] extends Date ? string : T[Key] extends Date | null ? string | null : T[Key] };

/** Queues a job in the caller's transaction; the caller tells the bus (`jobQueued`) after the commit. */
export async function queueEventJob(tx: Transaction, input: EventJobInput): Promise<void> {
  await tx.eventJob.create({
    data: { kind: input.kind, projectId: "projectId" in input ? input.projectId : null, input: input as unknown as Prisma.InputJsonValue },
  });
}

/** One page of a job: the events it logs, by project, and where the next page starts. */
export interface JobPage {
  events: Map<string, NewEvent[]>;
  /** The last customer id covered; the next page starts after it. */
  cursor: string;
}

/** How many customers one page evaluates. */
const JOB_PAGE_SIZE = 200;

/**
 * The next page of a job after `cursor` (null: the first), or null when the job is done, in
 * the runner's transaction: the one that logs the page's events (and remembers the
 * thresholds they announce) and moves the job's cursor.
 */
export async function nextJobPage(
  tx: Transaction,
  input: EventJobInput,
  cursor: string | null,
  pageSize = JOB_PAGE_SIZE,
): Promise<JobPage | null> {
  if (input.kind === "transitions") return announceTransitions(tx, await findTransitions(tx, input), cursor, pageSize);
  const { projectId } = input;
  // Each customer is compared across this edit alone (its before and after), whatever edits came since.
  const { where, previous, next } = input.kind === "plan-entitlement" ? await planEntitlementEdit(tx, input) : featureEdit(input);
  const page = await tx.customer.findMany({
    where: { projectId, ...where, ...(cursor ? { id: { gt: cursor } } : {}) },
    select: { id: true },
    orderBy: { id: "asc" },
    take: pageSize,
  });
  if (page.length === 0) return null;
  await lockCustomers(
    tx,
    page.map(({ id }) => id),
  );
  const loaders = loadersIn(tx, projectId);
  const at = new Date();
  const events = (
    await Promise.all(
      page.map(async ({ id: customerId }) => {
        const { state } = await loaders.customerState.load(customerId);
        const [before, after] = await Promise.all([
          observeCustomer(loaders, customerId, at, { state: previous(state) }),
          observeCustomer(loaders, customerId, at, { state: next(state) }),
        ]);
        return eventsBetween(tx, customerId, "CATALOG_CHANGED", before, after, at);
      }),
    )
  ).flat();
  return { events: new Map([[projectId, events]]), cursor: page.at(-1)?.id as string };
}

/** A plan entitlement's edit: every customer on the plan (now or scheduled, as a plan or an add-on), with the old and the new value. */
export async function planEntitlementEdit(tx: Transaction, input: Extract<EventJobInput, { kind: "plan-entitlement" }>) {
  const { planId, featureId, before, after } = input;
  // A removed entitlement may leave the feature out of the loaded state: the values need it.
  const featureRow = await tx.feature.findUniqueOrThrow({ where: { id: featureId } });
  const withValue =
    (value: EntitlementValue | null) =>
    (state: CustomerState): CustomerState => {
      const others = state.planEntitlements.filter((row) => row.planId !== planId || row.featureId !== featureId);
      const rows: PlanEntitlementRow[] = value ? [...others, { planId, featureId, value }] : others;
      return { ...state, features: new Map([...state.features, [featureId, featureInfo(featureRow)]]), planEntitlements: rows };
    };
  return {
    where: { subscriptions: { some: onPlanWhere(planId, new Date(), { addons: true }) } } satisfies Prisma.CustomerWhereInput,
    previous: withValue(before),
    next: withValue(after),
  };
}

/**
 * A feature's own rules edited (its levels, which rank `staticValues`): every customer the
 * feature reaches, through a plan or add-on that includes it, an override or a grant of it,
 * with the old feature.
 */
function featureEdit(input: Extract<EventJobInput, { kind: "feature" }>) {
  const before = input.before;
  const featureId = before.id;
  const now = new Date();
  const includesFeature = { entitlements: { some: { featureId, ...notRemovedWhere } } };
  const where: Prisma.CustomerWhereInput = {
    OR: [
      {
        subscriptions: {
          some: {
            OR: [
              { phases: { some: { plan: includesFeature, ...notEndedByWhere(now) } } },
              { addons: { some: { addon: includesFeature, ...notEndedByWhere(now) } } },
              { overrides: { some: { featureId, ...notRemovedWhere } } },
            ],
          },
        },
      },
      // Any grant of it: an ended one differs in nothing, so it is compared and not told.
      { grants: { some: { featureId } } },
    ],
  };
  const withFeature = (row: Jsonable<Feature>) => {
    const info = featureInfo({ ...row, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt) } as Feature);
    return (state: CustomerState): CustomerState => ({ ...state, features: new Map([...state.features, [featureId, info]]) });
  };
  return { where, previous: withFeature(before), next: withFeature(input.after) };
}
