// A request id for every HTTP request: taken from `x-request-id` when the caller sends a
// sane one, else generated; echoed in the response and available to error handling through
// the request. Not through an AsyncLocalStorage: on Node 20 one costs a hook on every promise
// of every request, a third of the CPU of a large query.
import { randomUUID } from "node:crypto";
import type { Plugin } from "graphql-yoga";

const requestIds = new WeakMap<Request, string>();
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export const requestIdOf = (request: Request): string => requestIds.get(request) ?? randomUUID();

export function useRequestId(): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        const given = request.headers.get("x-request-id");
        const requestId = given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
        requestIds.set(request, requestId);
        return wrapped();
      },
    },
    onResponse: ({ request, response }) => {
      const requestId = requestIds.get(request);
      if (requestId) response.headers.set("x-request-id", requestId);
    },
  };
}
