// Every error leaves with extensions.code from the contract's ErrorCode. Expected failures
// are ApiErrors thrown by services and resolvers; anything else is logged with the request
// id and answered INTERNAL_ERROR (or SERVICE_UNAVAILABLE when the database is away), with no
// stack, SQL or message of the original. One function decides (createErrorMapper); the
// plugins below only call it where each kind of failure surfaces.
import { GraphQLError } from "graphql";
import { handleStreamOrSingleExecutionResult, isAsyncIterable, mapAsyncIterator, type Plugin } from "graphql-yoga";
import { PothosValidationError } from "@pothos/core";
import { ApiError, ErrorCode, internalError, notFound, serviceUnavailable } from "../errors.ts";
import { isDatabaseUnavailable, isRecordNotFound } from "../db/errors.ts";
import type { Logger } from "../logger.ts";
import { requestIdOf } from "./request-id.ts";

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));
const hasCode = (error: GraphQLError) => typeof error.extensions?.code === "string" && CONTRACT_CODES.has(error.extensions.code);

/** `replacement`'s message and extensions at `located`'s place in the operation (locations, path). */
function atLocationOf(located: unknown, replacement: GraphQLError): GraphQLError {
  if (!(located instanceof GraphQLError) || located === replacement) return replacement;
  return new GraphQLError(replacement.message, {
    nodes: located.nodes,
    path: located.path,
    source: located.source,
    positions: located.positions,
    extensions: replacement.extensions,
  });
}

export type ErrorMapper = (error: unknown, requestId?: string) => GraphQLError;

/**
 * What any failure looks like to the client, keeping where in the operation it happened.
 * Called with the request's id where it is known; yoga's own masking calls it without one
 * (for what fails before a context exists).
 */
export function createErrorMapper(log: Logger): ErrorMapper {
  return (error: unknown, requestId = "unknown"): GraphQLError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (original instanceof GraphQLError && hasCode(original)) return atLocationOf(error, original);
    if (error instanceof GraphQLError && !error.path && original instanceof GraphQLError) {
      // Raised before any resolver ran: syntax, validation, variables of the wrong type, or the
      // request itself (unreadable, too large a batch). Yoga's HTTP status stays (400, 413…).
      const http = original.extensions?.http as { status?: number; spec?: boolean } | undefined;
      const code = http?.status === 413 ? ErrorCode.QUERY_TOO_COMPLEX : ErrorCode.VALIDATION_ERROR;
      // A request that is not a GraphQL request at all (no body, unreadable JSON) is a 400
      // whatever the client accepts; yoga keeps application/json's 200 for it otherwise.
      const unreadable = original.extensions?.code === "BAD_REQUEST" ? { spec: false } : {};
      // Answered without locations, as graphql-js's own pre-execution errors are.
      return new ApiError(code, error.message, http ? { http: { ...http, ...unreadable } } : {});
    }
    if (isRecordNotFound(original)) return atLocationOf(error, notFound("Object"));
    if (original instanceof PothosValidationError) {
      // Connection arguments Pothos refuses: `before` with `after`, a negative `first`, a bad cursor.
      return atLocationOf(error, new ApiError(ErrorCode.VALIDATION_ERROR, original.message));
    }
    const path = error instanceof GraphQLError ? error.path : undefined;
    if (isDatabaseUnavailable(original)) {
      log.warn({ requestId, path, err: original }, "database unavailable");
      return atLocationOf(error, serviceUnavailable(requestId));
    }
    log.error({ requestId, path, err: original }, "unexpected error");
    return atLocationOf(error, internalError(requestId));
  };
}

/**
 * Maps what execution and subscriptions return while the request's context, and so its id,
 * is at hand: INTERNAL_ERROR names the request, and the log line carries the same id.
 * Yoga's masking runs after and passes coded errors through.
 */
export function useRequestErrorMasking(mapError: ErrorMapper): Plugin<{ requestId: string }> {
  const mapResult =
    (requestId: string) =>
    ({ result, setResult }: { result: { errors?: readonly GraphQLError[] }; setResult: (result: never) => void }) => {
      if (!result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map((error) => mapError(error, requestId)) } as never);
    };
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, mapResult(args.contextValue.requestId)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, mapResult(args.contextValue.requestId)),
      onSubscribeError: ({ error, setError }) => setError(mapError(error, args.contextValue.requestId)),
    }),
  };
}

/**
 * What yoga's own masking does with a failure it meets outside execution (an unreadable
 * request, a plugin failing before the context exists): nothing yet, as it cannot know the
 * request. The result carries it to useErrorCodes, which maps it with the request's id. A
 * failure that is not a GraphQLError leaves its message behind already here.
 */
export const deferToResult = (error: unknown): GraphQLError =>
  error instanceof GraphQLError ? error : new GraphQLError("Unexpected error.", { originalError: error as Error });

type ErrorsOf = { errors?: readonly GraphQLError[] };

/**
 * Every result leaves through here with the request at hand: errors raised before execution
 * (syntax, validation, variables of the wrong type) come from graphql-js without a code, and
 * those yoga met before a context existed are still unmapped (deferToResult); each is mapped
 * with the request's id, in one result, in each of a batch's, and in each of a stream's.
 */
export function useErrorCodes(mapError: ErrorMapper): Plugin {
  const coded = <R>(result: R, requestId: string): R => {
    if (!result || typeof result !== "object" || !("errors" in result)) return result;
    const { errors } = result as ErrorsOf;
    if (!errors?.some((error) => !hasCode(error))) return result;
    return { ...result, errors: errors.map((error) => (hasCode(error) ? error : mapError(error, requestId))) };
  };
  return {
    onResultProcess({ request, result, setResult }) {
      const requestId = requestIdOf(request);
      if (isAsyncIterable(result)) setResult(mapAsyncIterator(result, (item) => coded(item, requestId)));
      else if (Array.isArray(result)) setResult(result.map((item) => coded(item, requestId)));
      else setResult(coded(result, requestId));
    },
  };
}
