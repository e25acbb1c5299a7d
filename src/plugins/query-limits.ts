// What one request may ask of the server, checked before any resolver runs: the size of its
// body, its tokens, depth, aliases and directives (GraphQL Armor), and its cost counted in
// list sizes (src/limits/operation-cost.ts). Over a limit: QUERY_TOO_COMPLEX naming the
// limit; a page over the maximum: VALIDATION_ERROR naming the argument.
import type { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { ApiError, ErrorCode, validationFailed } from "../errors.ts";
import { operationCost, PAGE_SIZE_LIMITS } from "../limits/operation-cost.ts";
import { refuseBeforeRunning } from "./refuse-before-running.ts";

export interface QueryLimits {
  /** Nesting of selections. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens in the document: bounds parsing work before anything else. */
  maxTokens: number;
  /** Fields times the pages they are asked for (see operationCost). */
  maxCost: number;
  /** Bytes of a request's body. */
  maxBodyBytes: number;
  /** Global ids one `nodes(ids:)` may name. */
  maxNodeIds: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 50,
  maxDirectives: 20,
  maxTokens: 2_000,
  maxCost: 20_000,
  maxBodyBytes: 512 * 1024,
  maxNodeIds: 100,
};

const tooComplex = (message: string, extensions: Record<string, unknown>) => new ApiError(ErrorCode.QUERY_TOO_COMPLEX, message, extensions);

/** Armor reports "Syntax Error: Query depth limit of 12 exceeded, found 13."; ours says what it is. */
const asTooComplex = (_context: unknown, error: GraphQLError) => {
  error.message = error.message.replace(/^Syntax Error: /, "");
  (error.extensions as Record<string, unknown>).code = ErrorCode.QUERY_TOO_COMPLEX;
};

export function useQueryLimits(limits: QueryLimits): Plugin[] {
  const armor = { propagateOnRejection: true, exposeLimits: true, onReject: [asTooComplex] };
  return [
    useBodySizeLimit(limits.maxBodyBytes),
    maxTokensPlugin({ ...armor, n: limits.maxTokens }),
    maxDepthPlugin({ ...armor, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ ...armor, n: limits.maxAliases }),
    maxDirectivesPlugin({ ...armor, n: limits.maxDirectives }),
    useOperationCost(limits.maxCost, limits.maxNodeIds),
  ];
}

/** Pages and id lists over the maximum, then the cost: all need the variables, so all run at execution. */
function useOperationCost(maxCost: number, maxNodeIds: number): Plugin {
  return refuseBeforeRunning(({ schema, document, operationName, variableValues }) => {
    const { cost, oversizedPages, oversizedIdLists } = operationCost(
      schema,
      document,
      operationName,
      variableValues,
      PAGE_SIZE_LIMITS,
      maxNodeIds,
    );
    const tooLong = [
      ...oversizedPages.map(({ field, value }) => ({
        field,
        message: `must be at most ${PAGE_SIZE_LIMITS.maxPageSize} (asked for ${value}); page with \`after\`/\`before\``,
      })),
      ...oversizedIdLists.map(({ field, value }) => ({
        field,
        message: `may name at most ${maxNodeIds} ids (got ${value}); split them over several requests`,
      })),
    ];
    if (tooLong.length > 0) return validationFailed(tooLong);
    if (!(cost <= maxCost)) {
      // also a cost past any number (NaN from 0 × Infinity)
      return tooComplex(
        `This operation would cost ${cost}, over the limit of ${maxCost}: every field counts once per object it is asked of, so ask for smaller pages or fewer nested connections.`,
        { cost, maxCost },
      );
    }
    return null;
  });
}

/**
 * Refuses a body over `maxBytes` with 413 before reading it when it declares its length,
 * and while reading it when it does not (chunked).
 */
function useBodySizeLimit(maxBytes: number): Plugin {
  const message = `The request body is over the limit of ${maxBytes} bytes.`;
  const refusal = (Response: typeof globalThis.Response) =>
    Response.json({ errors: [{ message, extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, maxBodyBytes: maxBytes } }] }, { status: 413 });
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const declared = request.headers.get("content-length");
      if (declared !== null && Number(declared) > maxBytes) endResponse(refusal(fetchAPI.Response));
    },
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (request.headers.get("content-length") !== null || !request.body || !requestParser) return;
      // No declared length (chunked): read at most the limit, then parse as usual.
      setRequestParser(async (chunked) => {
        const chunks: Uint8Array[] = [];
        let received = 0;
        const reader = chunked.body!.getReader();
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          received += read.value.byteLength;
          if (received > maxBytes) {
            await reader.cancel();
            throw tooComplex(message, { maxBodyBytes: maxBytes, http: { status: 413 } });
          }
          chunks.push(read.value);
        }
        return requestParser(new Request(chunked.url, { method: chunked.method, headers: chunked.headers, body: Buffer.concat(chunks) }));
      });
    },
  };
}
