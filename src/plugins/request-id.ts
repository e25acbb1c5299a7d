// A request id for every HTTP request: taken from `x-request-id` when the caller sends a
// sane one, else generated; echoed in the response and available to error handling, also
// where yoga masks an error without the request at hand (a request it could not parse).
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { Plugin } from "graphql-yoga";

const requestIds = new WeakMap<Request, string>();
const handling = new AsyncLocalStorage<string>();
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export const requestIdOf = (request: Request): string => requestIds.get(request) ?? randomUUID();

/** The id of the HTTP request being handled, when there is one. */
export const currentRequestId = (): string | undefined => handling.getStore();

export function useRequestId(): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        const given = request.headers.get("x-request-id");
        const requestId = given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
        requestIds.set(request, requestId);
        return handling.run(requestId, wrapped);
      },
    },
    onResponse: ({ request, response }) => {
      const requestId = requestIds.get(request);
      if (requestId) response.headers.set("x-request-id", requestId);
    },
  };
}
