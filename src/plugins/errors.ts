// Every error leaves with extensions.code from the contract's ErrorCode. Expected failures
// are ApiErrors thrown by resolvers; anything else is logged with the request id and
// answered INTERNAL_ERROR (or SERVICE_UNAVAILABLE when the database is away), with no
// stack, SQL or message of the original.
import { GraphQLError } from "graphql";
import { handleStreamOrSingleExecutionResult, type Plugin } from "graphql-yoga";
import { PothosValidationError } from "@pothos/core";
import { ApiError, ErrorCode, internalError, notFound, serviceUnavailable } from "../errors.ts";
import { isDatabaseUnavailable, isRecordNotFound } from "../db/errors.ts";
import type { Logger } from "../logger.ts";

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));
const hasCode = (error: GraphQLError) =>
  typeof error.extensions?.code === "string" && CONTRACT_CODES.has(error.extensions.code);

export type ErrorMasker = (error: unknown, requestId?: string) => Error;

/**
 * Decides what a failure looks like to the client. `useRequestErrorMasking` calls it with
 * the request's id; yoga's own maskError, without (for what fails before a context exists).
 */
export function createErrorMasker(log: Logger): ErrorMasker {
  return (error: unknown, requestId = "unknown"): Error => {
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
      // Raised before any resolver ran: the request itself (unreadable, too large a batch) or
      // variables of the wrong type. Yoga's HTTP status stays (400, 413…); yoga sends it, not its extension.
      const http = original.extensions?.http as { status?: number; spec?: boolean } | undefined;
      const code = http?.status === 413 ? ErrorCode.QUERY_TOO_COMPLEX : ErrorCode.VALIDATION_ERROR;
      // A request that is not a GraphQL request at all (no body, unreadable JSON) is a 400
      // whatever the client accepts; yoga keeps application/json's 200 for it otherwise.
      const unreadable = original.extensions?.code === "BAD_REQUEST" ? { spec: false } : {};
      return new ApiError(code, error.message, http ? { http: { ...http, ...unreadable } } : {});
    }
    if (isRecordNotFound(original)) return withLocation(notFound("Object"), error);
    if (original instanceof PothosValidationError) {
      // Connection arguments Pothos refuses: `before` with `after`, a negative `first`, a bad cursor.
      return withLocation(new ApiError(ErrorCode.VALIDATION_ERROR, original.message), error);
    }
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
 * Masks what execution and subscriptions return while the request's context, and so its id,
 * is at hand: INTERNAL_ERROR names the request, and the log line carries the same id.
 * Yoga's masking runs after and passes coded errors through.
 */
export function useRequestErrorMasking(mask: ErrorMasker): Plugin<{ requestId: string }> {
  const maskResult = (requestId: string) => ({ result, setResult }: { result: { errors?: readonly GraphQLError[] }; setResult: (result: never) => void }) => {
    if (!result.errors?.length) return;
    setResult({ ...result, errors: result.errors.map((error) => mask(error, requestId)) } as never);
  };
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, maskResult(args.contextValue.requestId)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, maskResult(args.contextValue.requestId)),
      onSubscribeError: ({ error, setError }) => setError(mask(error, args.contextValue.requestId)),
    }),
  };
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
