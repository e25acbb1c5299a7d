// The event log and its subscriptions (docs/rules.md §6): EntitlementsChangedEvent and
// UsageThresholdEvent as logged, `entitlementEvents` to read the log, and the subscriptions
// that replay it from an id (`after`) and then go live.
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerNode, CustomerRef } from "./customer.ts";
import { CustomerEntitlementType } from "./entitlement.ts";
import { catalogKey } from "./inputs.ts";
import { scopeOf, type Context } from "../context.ts";
import { PAGE_SIZE_LIMITS } from "../limits/operation-cost.ts";
import type { EntitlementsChangedEvent, UsageThresholdEvent } from "../events/logged-event.ts";
import { listEvents, parseAfter } from "../services/event-log.ts";
import { watchEvents } from "../services/changes.ts";
import { loadedCustomer } from "../services/customers.ts";
import { entitlementsOfEvent } from "../services/entitlements.ts";

const ChangeCauseEnum = builder.enumType("ChangeCause", {
  values: {
    CATALOG_CHANGED: {},
    SUBSCRIPTION_CHANGED: {},
    GRANT_CHANGED: {},
    USAGE_CHANGED: {},
    SCHEDULED_TRANSITION: { description: "A start or end time of a source was reached." },
  } as const,
});

const customerOf = (event: { customerId: string }, context: Context) => loadedCustomer(context.loaders, event.customerId);

const EntitlementsChangedEventType = builder.objectRef<EntitlementsChangedEvent>("EntitlementsChangedEvent").implement({
  fields: (t) => ({
    id: t.id({
      description:
        "The event's place in the project's event log: ids increase in the order events are logged; pass one as `after` to resume from it.",
      resolve: (event) => event.id,
    }),
    customer: t.field({ type: CustomerNode, resolve: (event, _args, context) => customerOf(event, context) }),
    cause: t.field({ type: ChangeCauseEnum, resolve: (event) => event.data.cause }),
    changedFeatureKeys: t.stringList({ resolve: (event) => event.data.changedFeatureKeys }),
    occurredAt: t.field({ type: "DateTime", resolve: (event) => new Date(event.occurredAt) }),
    entitlements: t.field({
      type: [CustomerEntitlementType],
      description: "The customer's entitlements just after the change (as logged).",
      resolve: (event) => entitlementsOfEvent(event),
    }),
  }),
});

const UsageThresholdEventType = builder.objectRef<UsageThresholdEvent>("UsageThresholdEvent").implement({
  fields: (t) => ({
    id: t.id({ description: "Shares the event log's order with EntitlementsChangedEvent ids.", resolve: (event) => event.id }),
    customer: t.field({ type: CustomerNode, resolve: (event, _args, context) => customerOf(event, context) }),
    featureKey: t.string({ resolve: (event) => event.data.featureKey }),
    threshold: t.float({ description: "The percentage of the usage limit that was reached.", resolve: (event) => event.data.threshold }),
    used: t.float({ resolve: (event) => event.data.used }),
    usageLimit: t.float({ resolve: (event) => event.data.usageLimit }),
    periodStart: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (event) => (event.data.periodStart === null ? null : new Date(event.data.periodStart)),
    }),
    periodEnd: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (event) => (event.data.periodEnd === null ? null : new Date(event.data.periodEnd)),
    }),
    occurredAt: t.field({ type: "DateTime", resolve: (event) => new Date(event.occurredAt) }),
  }),
});

const EntitlementsChangedEventConnection = builder.connectionObject(
  { type: EntitlementsChangedEventType, name: "EntitlementsChangedEventConnection" },
  { name: "EntitlementsChangedEventEdge" },
);

const featureKeysFilter = z.array(catalogKey).max(200).nullish();

builder.queryField("entitlementEvents", (t) =>
  t.field({
    type: EntitlementsChangedEventConnection,
    authScopes: { read: true, customerToken: true },
    description:
      "The project's event log of entitlement changes, oldest first, for services that poll or catch up; `after` is an event id (or a cursor of this connection).",
    extensions: { ownCursors: true },
    args: {
      customer: t.arg({ type: CustomerRef }),
      featureKeys: t.arg.stringList().validate(featureKeysFilter),
      after: t.arg.string(),
      first: t.arg.int().validate(z.number().int().min(0).max(PAGE_SIZE_LIMITS.maxPageSize).nullish()),
    },
    resolve: async (_root, args, context) => {
      const first = args.first ?? PAGE_SIZE_LIMITS.defaultPageSize;
      const { events, hasNextPage } = await listEvents(scopeOf(context), {
        customer: args.customer,
        featureKeys: args.featureKeys,
        after: parseAfter(args.after, "after"),
        first,
      });
      return {
        edges: events.map((event) => ({ cursor: event.id, node: event })),
        pageInfo: {
          hasNextPage,
          hasPreviousPage: args.after !== null && args.after !== undefined,
          startCursor: events[0]?.id ?? null,
          endCursor: events.at(-1)?.id ?? null,
        },
        totalCount: () => events.length,
      };
    },
  }),
);

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  entitlementsChanged: t.field({
    type: EntitlementsChangedEventType,
    authScopes: { read: true, customerToken: true },
    description:
      "Fires whenever the customer's aggregated entitlements change. Without `customer`, every customer of the project; a customer token always gets its own customer only. With `after` (an event id), first every logged event after it for this filter, in order, then live ones, with no gap and no repeat.",
    args: {
      customer: t.arg({ type: CustomerRef }),
      featureKeys: t.arg.stringList().validate(featureKeysFilter),
      after: t.arg.id(),
    },
    subscribe: async (_root, args, context) =>
      (await watchEvents(scopeOf(context), context.feed, {
        type: "ENTITLEMENTS_CHANGED",
        customer: args.customer,
        featureKeys: args.featureKeys,
        after: parseAfter(args.after, "after"),
      })) as AsyncIterable<EntitlementsChangedEvent>,
    resolve: (event) => event,
  }),
  usageThresholdReached: t.field({
    type: UsageThresholdEventType,
    authScopes: { read: true, customerToken: true },
    description:
      "Fires when a customer's usage reaches one of a feature's alertThresholds, once per customer, feature, threshold and usage period. `after` resumes as for entitlementsChanged.",
    args: {
      customer: t.arg({ type: CustomerRef }),
      featureKeys: t.arg.stringList().validate(featureKeysFilter),
      after: t.arg.id(),
    },
    subscribe: async (_root, args, context) =>
      (await watchEvents(scopeOf(context), context.feed, {
        type: "USAGE_THRESHOLD_REACHED",
        customer: args.customer,
        featureKeys: args.featureKeys,
        after: parseAfter(args.after, "after"),
      })) as AsyncIterable<UsageThresholdEvent>,
    resolve: (event) => event,
  }),
}));
