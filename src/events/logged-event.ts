// What the event log holds (docs/rules.md §6): every event as it was delivered, with the
// customer's entitlements as they were just after the change. JSON all the way: an event
// crosses instances, the database and webhooks in this form.
import type { CreditBalance } from "../domain/credits.ts";
import type { Entitlement } from "../domain/entitlements.ts";

export type ChangeCause = "CATALOG_CHANGED" | "SUBSCRIPTION_CHANGED" | "GRANT_CHANGED" | "USAGE_CHANGED" | "SCHEDULED_TRANSITION";

export type EventType = "ENTITLEMENTS_CHANGED" | "USAGE_THRESHOLD_REACHED";

/** An entitlement as logged: the aggregate, its dates as ISO strings, and its usage and credits then. */
export interface LoggedEntitlement {
  entitlement: Jsonified<Entitlement>;
  used: number;
  /** Absent from events logged before credits existed. */
  credits?: Jsonified<CreditBalance>[];
}

interface EntitlementsChangedData {
  cause: ChangeCause;
  changedFeatureKeys: string[];
  entitlements: LoggedEntitlement[];
}

interface UsageThresholdData {
  featureKey: string;
  threshold: number;
  used: number;
  usageLimit: number;
  periodStart: string | null;
  periodEnd: string | null;
}

interface EventOf<Type extends EventType, Data> {
  /** The log's id (a bigint, as a string): increasing in log order within a project. */
  id: string;
  projectId: string;
  customerId: string;
  type: Type;
  /** The feature keys it concerns (changedFeatureKeys, or the threshold's feature). */
  featureKeys: string[];
  occurredAt: string;
  data: Data;
}

export type EntitlementsChangedEvent = EventOf<"ENTITLEMENTS_CHANGED", EntitlementsChangedData>;
export type UsageThresholdEvent = EventOf<"USAGE_THRESHOLD_REACHED", UsageThresholdData>;
export type LoggedEvent = EntitlementsChangedEvent | UsageThresholdEvent;

/** An event about to be logged: everything but its id. */
export type NewEvent = Omit<EntitlementsChangedEvent, "id" | "projectId"> | Omit<UsageThresholdEvent, "id" | "projectId">;

/** What JSON makes of a value: dates become strings. */
export type Jsonified<T> = T extends Date
  ? string
  : T extends readonly (infer Item)[]
    ? Jsonified<Item>[]
    : T extends object
      ? { [Key in keyof T]: Jsonified<T[Key]> }
      : T;

const date = (value: string | null) => (value === null ? null : new Date(value));

/** An entitlement as it was logged, back in the form the entitlement engine gives. */
export function revivedEntitlement(logged: Jsonified<Entitlement>): Entitlement {
  return {
    ...logged,
    activeFrom: date(logged.activeFrom),
    activeTo: date(logged.activeTo),
    period: logged.period && { start: date(logged.period.start), end: date(logged.period.end) },
    sources: logged.sources.map((source) => ({
      ...source,
      activeFrom: new Date(source.activeFrom),
      activeTo: date(source.activeTo),
      periodAnchor: new Date(source.periodAnchor),
      credit: source.credit ? revivedCredit(source.credit) : null,
    })),
    credits: (logged.credits ?? []).map(revivedCredit),
  };
}

function revivedCredit<T extends Jsonified<Entitlement["credits"][number]>>(credit: T) {
  return { ...credit, effectiveAt: new Date(credit.effectiveAt), expiresAt: date(credit.expiresAt), voidedAt: date(credit.voidedAt) };
}

/** The credit balances an entitlement was logged with. */
export const revivedCredits = (logged: LoggedEntitlement): CreditBalance[] => (logged.credits ?? []).map(revivedCredit);

/** An entitlement in the form it is logged in. */
export const loggedEntitlement = (entitlement: Entitlement, used: number, credits: readonly CreditBalance[] = []): LoggedEntitlement => ({
  entitlement: JSON.parse(JSON.stringify(entitlement)) as Jsonified<Entitlement>,
  used,
  credits: JSON.parse(JSON.stringify(credits)) as Jsonified<CreditBalance>[],
});
