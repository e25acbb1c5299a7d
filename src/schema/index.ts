// The GraphQL schema: each domain module registers its types, queries and mutations.
import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.ts";
import "./scalars.ts";
import "./enums.ts";
import "./feature.ts";
import "./plan.ts";
import "./customer.ts";
import "./subscription.ts";
import "./grant.ts";
import "./api-key.ts";
import "./entitlement.ts";
import "./usage.ts";
import "./usage-series.ts";
import "./customer-token.ts";
import "./events.ts";
import "./webhook.ts";
import "./audit.ts";
import "./previews.ts";
import "./catalog-as-code.ts";

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql (sorted, so diffs stay stable). */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;
