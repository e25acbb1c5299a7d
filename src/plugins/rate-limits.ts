// Each operation (each one of a batch, each subscription started) takes one from its
// credential's budget before it runs; an operation that only records usage takes one from
// the usage budget for each record it asks for (aliases included, each record of a
// recordUsages batch, so a batch over what is left is refused whole). Over budget it answers
// RATE_LIMITED with HTTP 429, `Retry-After` and `extensions.retryAfterMs`.
// Unauthenticated requests are refused anyway and take nothing.
import { Kind, valueFromASTUntyped, type DocumentNode, type FieldNode, type OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Caller } from "../auth/api-keys.ts";
import { ApiError, ErrorCode } from "../errors.ts";
import { USAGE_OPERATIONS, type RateBucket, type RateLimiter } from "../limits/rate-limits.ts";
import { refuseBeforeRunning } from "./refuse-before-running.ts";

/** A key's budget is its own; a customer token's is its customer's, however many tokens it has. */
const budgetKeyOf = (caller: Caller) =>
  caller.customerId ? `customer:${caller.projectId}:${caller.customerId}` : `key:${caller.apiKeyId ?? caller.projectId}`;

/**
 * The records a usage field asks to store: its `records` list's length (a lone object given
 * for the list is a list of one, as GraphQL coerces it), else one.
 */
function recordsOf(field: FieldNode, variables: Readonly<Record<string, unknown>> | null | undefined): number {
  const argument = field.arguments?.find((candidate) => candidate.name.value === "records");
  if (!argument) return 1;
  const value = valueFromASTUntyped(argument.value, variables);
  return Array.isArray(value) ? value.length : 1;
}

/** The usage budget pays for an operation that only records usage, a point a record; anything else, the general one, a point an operation. */
function costOf(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): { bucket: RateBucket; points: number } {
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName),
  );
  if (operation?.operation !== "mutation") return { bucket: "requests", points: 1 };
  const fields = operation.selectionSet.selections;
  const records = fields
    .filter((selection): selection is FieldNode => selection.kind === Kind.FIELD && USAGE_OPERATIONS.has(selection.name.value))
    .reduce((sum, field) => sum + recordsOf(field, variables), 0);
  const onlyUsage = fields.every(
    (selection) => selection.kind === Kind.FIELD && (USAGE_OPERATIONS.has(selection.name.value) || selection.name.value === "__typename"),
  );
  return onlyUsage && records > 0 ? { bucket: "usage", points: records } : { bucket: "requests", points: 1 };
}

export function useRateLimits(limiter: RateLimiter): Plugin {
  return refuseBeforeRunning(async ({ contextValue, document, operationName, variableValues }) => {
    const { caller } = contextValue as { caller: Caller | null };
    if (!caller) return null;
    const { bucket, points } = costOf(document, operationName, variableValues);
    const limited = await limiter.consume(bucket, budgetKeyOf(caller), points);
    if (!limited) return null;
    const retryAfterSeconds = Math.ceil(limited.retryAfterMs / 1000);
    return new ApiError(
      ErrorCode.RATE_LIMITED,
      `Too many ${bucket === "usage" ? "usage records" : "requests"} for this credential: retry in ${retryAfterSeconds} s.`,
      { retryAfterMs: limited.retryAfterMs, budget: bucket, http: { status: 429, headers: { "retry-after": String(retryAfterSeconds) } } },
    );
  });
}
