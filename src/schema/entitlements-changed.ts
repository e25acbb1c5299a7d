// Subscription.entitlementsChanged: a customer's entitlements as they change (SPEC §6).
import { filter, pipe } from "graphql-yoga";
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerNode, CustomerRef, loadedCustomer, resolveCustomerRef } from "./customer.ts";
import { CustomerEntitlementType, type EvaluatedEntitlement } from "./entitlement.ts";
import { catalogKey } from "./inputs.ts";
import { projectIdOf, type Context } from "../context.ts";
import { createLoaders } from "../loaders/index.ts";
import { usageKeyOf } from "../loaders/customer-state.ts";
import type { EntitlementChange } from "../events/bus.ts";

const ChangeCauseEnum = builder.enumType("ChangeCause", {
  values: {
    CATALOG_CHANGED: {},
    SUBSCRIPTION_CHANGED: {},
    GRANT_CHANGED: {},
    USAGE_CHANGED: {},
    SCHEDULED_TRANSITION: { description: "A start or end time of a source was reached." },
  } as const,
});

const EntitlementsChangedEvent = builder.objectRef<EntitlementChange>("EntitlementsChangedEvent").implement({
  fields: (t) => ({
    customer: t.field({
      type: CustomerNode,
      resolve: ({ customerId }, _args, context) => loadedCustomer(context, customerId),
    }),
    cause: t.field({ type: ChangeCauseEnum, resolve: (change) => change.cause }),
    changedFeatureKeys: t.exposeStringList("changedFeatureKeys"),
    occurredAt: t.field({ type: "DateTime", resolve: (change) => new Date(change.occurredAt) }),
    entitlements: t.field({
      type: [CustomerEntitlementType],
      description: "The customer's entitlements after the change.",
      resolve: (change, _args, context) => entitlementsAfter(change, context),
    }),
  }),
});

/**
 * The entitlements an event carries, evaluated once per event on this instance however many
 * subscribers it has: every subscriber of an event receives the same event object.
 */
const evaluatedEvents = new WeakMap<EntitlementChange, Promise<EvaluatedEntitlement[]>>();
function entitlementsAfter(change: EntitlementChange, context: Context): Promise<EvaluatedEntitlement[]> {
  let evaluated = evaluatedEvents.get(change);
  if (!evaluated) {
    // Fresh loaders: a subscription's context outlives its events.
    const loaders = createLoaders(context.prisma, change.projectId, context.cache);
    evaluated = loaders.customerState.load(change.customerId).then((loaded) => {
      const at = new Date();
      return loaded.entitlementsAt(at).map((entitlement) => {
        let used: Promise<number> | undefined;
        return {
          customerId: change.customerId,
          at,
          entitlement,
          used: () => (used ??= loaders.usage.load(usageKeyOf(change.customerId, entitlement))),
        };
      });
    });
    evaluatedEvents.set(change, evaluated);
  }
  return evaluated;
}

builder.subscriptionType({});

builder.subscriptionField("entitlementsChanged", (t) =>
  t.field({
    type: EntitlementsChangedEvent,
    authScopes: { read: true, customerToken: true },
    description:
      "Fires whenever the customer's aggregated entitlements change. Without `customer`, every customer of the project; a customer token always gets its own customer only.",
    args: {
      customer: t.arg({ type: CustomerRef }),
      featureKeys: t.arg.stringList().validate(z.array(catalogKey).max(200).nullish()),
    },
    subscribe: async (_root, args, context) => {
      const projectId = projectIdOf(context);
      const customerId = args.customer
        ? (await resolveCustomerRef(context, args.customer, "customer")).id
        : (context.caller?.customerId ?? null);
      const keys = args.featureKeys ? new Set(args.featureKeys) : null;
      const changes = context.events.subscribe(projectId, customerId);
      return keys === null ? changes : pipe(changes, filter((change: EntitlementChange) => change.changedFeatureKeys.some((key) => keys.has(key))));
    },
    resolve: (change) => change,
  }),
);
