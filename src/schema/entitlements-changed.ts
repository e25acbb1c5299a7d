// Subscription.entitlementsChanged: a customer's entitlements as they change (docs/rules.md §6).
import { z } from "zod";
import { builder } from "./builder.ts";
import { CustomerNode, CustomerRef } from "./customer.ts";
import { CustomerEntitlementType } from "./entitlement.ts";
import { catalogKey } from "./inputs.ts";
import { scopeOf } from "../context.ts";
import type { EntitlementChange } from "../events/bus.ts";
import { watchChanges } from "../services/changes.ts";
import { loadedCustomer } from "../services/customers.ts";
import { entitlementsAfterChange } from "../services/entitlements.ts";

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
      resolve: ({ customerId }, _args, context) => loadedCustomer(context.loaders, customerId),
    }),
    cause: t.field({ type: ChangeCauseEnum, resolve: (change) => change.cause }),
    changedFeatureKeys: t.exposeStringList("changedFeatureKeys"),
    occurredAt: t.field({ type: "DateTime", resolve: (change) => new Date(change.occurredAt) }),
    entitlements: t.field({
      type: [CustomerEntitlementType],
      description: "The customer's entitlements after the change.",
      resolve: (change, _args, context) => entitlementsAfterChange(context, change),
    }),
  }),
});

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
    subscribe: (_root, args, context) => watchChanges(scopeOf(context), args),
    resolve: (change) => change,
  }),
);
