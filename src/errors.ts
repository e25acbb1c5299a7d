// The errors this API answers with: GraphQL errors whose extensions.code is one of the
// contract's ErrorCode values, naming the input field at fault where there is one.
import { GraphQLError } from "graphql";
import type { FieldProblem } from "./domain/entitlement-value.ts";

export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  NOT_FOUND: "NOT_FOUND",
  ALREADY_EXISTS: "ALREADY_EXISTS",
  VALIDATION_ERROR: "VALIDATION_ERROR",
  INVALID_OPERATION: "INVALID_OPERATION",
  VERSION_CONFLICT: "VERSION_CONFLICT",
  RATE_LIMITED: "RATE_LIMITED",
  QUERY_TOO_COMPLEX: "QUERY_TOO_COMPLEX",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type { FieldProblem };

export class ApiError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
    this.code = code;
  }
}

export const unauthenticated = () =>
  new ApiError(ErrorCode.UNAUTHENTICATED, "A valid API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`.");

export const permissionDenied = (needed: string) =>
  new ApiError(ErrorCode.PERMISSION_DENIED, `This API key lacks the ${needed} scope needed here.`, {
    requiredScope: needed,
  });

/** An unknown id or key, or one that belongs to another project: the answer is the same. */
export const notFound = (what: string, field?: string, value?: string) =>
  new ApiError(ErrorCode.NOT_FOUND, value === undefined ? `${what} not found.` : `${what} "${value}" not found.`, field ? { field } : {});

export const validationFailed = (problems: FieldProblem[]) => {
  const [first] = problems;
  const message =
    problems.length === 1 && first
      ? `${first.field}: ${first.message}`
      : `Invalid input: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`;
  return new ApiError(ErrorCode.VALIDATION_ERROR, message, {
    field: first?.field,
    problems,
  });
};

export const invalidInput = (field: string, message: string) => validationFailed([{ field, message }]);

export const alreadyExists = (what: string, field: string, value?: string) =>
  new ApiError(
    ErrorCode.ALREADY_EXISTS,
    value === undefined ? `A ${what} with this ${field} already exists.` : `A ${what} with ${field} "${value}" already exists.`,
    { field },
  );

export const invalidOperation = (message: string, field?: string) =>
  new ApiError(ErrorCode.INVALID_OPERATION, message, field ? { field } : {});

export const serviceUnavailable = (requestId: string) =>
  new ApiError(ErrorCode.SERVICE_UNAVAILABLE, "The database is unavailable; retry shortly.", { requestId });

export const internalError = (requestId: string) =>
  new ApiError(ErrorCode.INTERNAL_ERROR, `Internal error; quote request id ${requestId} when reporting it.`, {
    requestId,
  });
