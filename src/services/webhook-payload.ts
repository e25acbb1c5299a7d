// The body of a webhook (docs/rules.md §6): a logged event with its fields named as the
// GraphQL types name them (EntitlementsChangedEvent, UsageThresholdEvent, CustomerEntitlement),
// so a receiver reads the same shapes it would read from the API. Pure: the event and the
// customer's externalId in, the JSON value out.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { hasAccess, usageSummary } from "../domain/checks.ts";
import { revivedCredits, revivedEntitlement, type EventType, type LoggedEntitlement, type LoggedEvent } from "../events/logged-event.ts";

/** The `type` a receiver sees for each kind of event. */
const WEBHOOK_EVENT_TYPES: Record<EventType, string> = {
  ENTITLEMENTS_CHANGED: "entitlements.changed",
  USAGE_THRESHOLD_REACHED: "usage.threshold_reached",
};

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** A CustomerEntitlement as logged, with hasAccess and usage computed as the API computes them. */
function renderEntitlement(loggedEntitlement: LoggedEntitlement) {
  const { entitlement: logged, used } = loggedEntitlement;
  const entitlement = revivedEntitlement(logged);
  const credits = revivedCredits(loggedEntitlement);
  const creditsRemaining = credits.reduce((sum, credit) => sum + credit.remaining, 0);
  const metered = entitlement.feature.type === "METERED";
  return {
    featureKey: entitlement.feature.key,
    featureType: entitlement.feature.type,
    isEnabled: entitlement.isEnabled,
    hasAccess: hasAccess(entitlement, used, creditsRemaining),
    usageLimit: entitlement.usageLimit,
    isUnlimited: entitlement.isUnlimited,
    isSoftLimit: entitlement.isSoftLimit,
    resetPeriod: entitlement.resetPeriod,
    staticValues: entitlement.staticValues,
    staticValue: entitlement.staticValues[0] ?? null,
    activeFrom: iso(entitlement.activeFrom),
    activeTo: iso(entitlement.activeTo),
    usage: metered
      ? {
          ...usageSummary(entitlement, used, creditsRemaining),
          credits: credits.map((credit) => ({
            grant: { id: encodeGlobalID("Grant", credit.grantId) },
            amount: credit.amount,
            remaining: credit.remaining,
            effectiveAt: iso(credit.effectiveAt),
            expiresAt: iso(credit.expiresAt),
          })),
          periodStart: iso(entitlement.period?.start ?? null),
          periodEnd: iso(entitlement.period?.end ?? null),
        }
      : null,
  };
}

/** The JSON a webhook carries for `event`, whose customer's externalId is `externalId`. */
export function webhookPayload(event: LoggedEvent, externalId: string | null) {
  const customer = { id: encodeGlobalID("Customer", event.customerId), externalId };
  const data =
    event.type === "ENTITLEMENTS_CHANGED"
      ? {
          id: event.id,
          customer,
          cause: event.data.cause,
          changedFeatureKeys: event.data.changedFeatureKeys,
          occurredAt: event.occurredAt,
          entitlements: event.data.entitlements.map(renderEntitlement),
        }
      : {
          id: event.id,
          customer,
          featureKey: event.data.featureKey,
          threshold: event.data.threshold,
          used: event.data.used,
          usageLimit: event.data.usageLimit,
          periodStart: event.data.periodStart,
          periodEnd: event.data.periodEnd,
          occurredAt: event.occurredAt,
        };
  return { id: event.id, type: WEBHOOK_EVENT_TYPES[event.type], occurredAt: event.occurredAt, data };
}
