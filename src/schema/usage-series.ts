// Customer.usageSeries: usage over time in UTC windows, for dashboards (docs/rules.md §9).
import { builder } from "./builder.ts";
import { CustomerNode } from "./customer.ts";
import { catalogKey } from "./inputs.ts";
import { scopeOf } from "../context.ts";
import { usageSeries, type UsageBucket } from "../services/usage-series.ts";

const UsageWindowEnum = builder.enumType("UsageWindow", { values: ["MINUTE", "HOUR", "DAY", "MONTH"] as const });

const UsageBucketType = builder.objectRef<UsageBucket>("UsageBucket").implement({
  description: "Usage in one window [start, end) of a series.",
  fields: (t) => ({
    start: t.field({ type: "DateTime", resolve: (bucket) => bucket.start }),
    end: t.field({ type: "DateTime", resolve: (bucket) => bucket.end }),
    used: t.float({ resolve: (bucket) => bucket.used }),
  }),
});

builder.prismaObjectFields(CustomerNode, (t) => ({
  usageSeries: t.field({
    type: [UsageBucketType],
    description:
      "Usage of a METERED feature over [from, to) in UTC windows, oldest first, empty windows included as 0; at most 1,000 windows.",
    args: {
      featureKey: t.arg.string({ required: true }).validate(catalogKey),
      from: t.arg({ type: "DateTime", required: true }),
      to: t.arg({ type: "DateTime", required: true }),
      window: t.arg({ type: UsageWindowEnum, required: true }),
    },
    resolve: (customer, args, context) => usageSeries(scopeOf(context), customer.id, args),
  }),
}));
