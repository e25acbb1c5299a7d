// Every error leaves with extensions.code from the contract's ErrorCode. Expected failures
// are ApiErrors thrown by resolvers; anything else is logged with the request id and
// answered INTERNAL_ERROR (or SERVICE_UNAVAILABLE when the database is away), with no
// stack, SQL or message of the original.
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { PothosValidationError } from "@pothos/core";
import { ApiError, ErrorCode, internalError, notFound, serviceUnavailable } from "../errors.ts";
import { isDatabaseUnavailable, isRecordNotFound } from "../db/errors.ts";
import type { Logger } from "../logger.ts";
import { currentRequestId } from "./request-id.ts";

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));
const hasCode = (error: GraphQLError) =>
  typeof error.extensions?.code === "string" && CONTRACT_CODES.has(error.extensions.code);

/** Yoga's maskError: decides what a resolver's failure looks like to the client. */
export function createErrorMasker(log: Logger) {
  return (error: unknown): Error => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (original instanceof GraphQLError && hasCode(original)) {
      return error instanceof GraphQLError && error !== original
        ? new GraphQLError(original.message, {
            nodes: error.nodes,
            path: error.path,
            source: error.source,
            positions: error.positions,
            extensions: original.extensions,
          })
        : original;
    }
    if (error instanceof GraphQLError && !error.path && original instanceof GraphQLError) {
      // Raised before any resolver ran: variables of the wrong type.
      return new ApiError(ErrorCode.VALIDATION_ERROR, error.message);
    }
    if (isRecordNotFound(original)) return withLocation(notFound("Object"), error);
    if (original instanceof PothosValidationError) {
      // Connection arguments Pothos refuses: `before` with `after`, a negative `first`, a bad cursor.
      return withLocation(new ApiError(ErrorCode.VALIDATION_ERROR, original.message), error);
    }
    const requestId = currentRequestId() ?? "unknown";
    const path = error instanceof GraphQLError ? error.path : undefined;
    if (isDatabaseUnavailable(original)) {
      log.warn({ requestId, path, err: original }, "database unavailable");
      return withLocation(serviceUnavailable(requestId), error);
    }
    log.error({ requestId, path, err: original }, "unexpected error");
    return withLocation(internalError(requestId), error);
  };
}

function withLocation(apiError: GraphQLError, source: unknown): GraphQLError {
  if (!(source instanceof GraphQLError)) return apiError;
  return new GraphQLError(apiError.message, {
    nodes: source.nodes,
    path: source.path,
    positions: source.positions,
    source: source.source,
    extensions: apiError.extensions,
  });
}

/**
 * Errors raised before execution (syntax, validation, variables of the wrong type) come
 * from graphql-js without a code: they are the caller's bad input.
 */
export function useErrorCodes(): Plugin {
  const withCode = (error: GraphQLError) =>
    hasCode(error)
      ? error
      : new GraphQLError(error.message, {
          nodes: error.nodes,
          positions: error.positions,
          source: error.source,
          path: error.path,
          originalError: error.originalError,
          extensions: { ...error.extensions, code: error.path ? ErrorCode.INTERNAL_ERROR : ErrorCode.VALIDATION_ERROR },
        });
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== "object" || !("errors" in result)) return;
      if (!result.errors?.some((error) => !hasCode(error as GraphQLError))) return;
      setResult({ ...result, errors: result.errors.map((error) => withCode(error as GraphQLError)) });
    },
  };
}
