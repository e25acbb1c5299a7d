// Subscribers who hear the same event with the same operation, variables and credential get
// one execution of it between them instead of one each: a thousand dashboards watching one
// customer cost one result per change, and only its sending is per subscriber.
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import { withFreshLoaders, type Context } from "../context.ts";

/** Each event's results so far, by sharing key; dropped with the event. */
const resultsByEvent = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * What makes two subscribers' results the same: the operation (the parser's cache hands every
 * subscriber of one query text the same document), its variables, and who is asking.
 */
function sharingKey({ document, operationName, variableValues, contextValue }: ExecutionArgs): string {
  let documentId = documentIds.get(document);
  if (documentId === undefined) {
    documentId = nextDocumentId++;
    documentIds.set(document, documentId);
  }
  const caller = (contextValue as Context).caller;
  const credential = caller ? [caller.projectId, caller.customerId ?? "", [...caller.scopes].sort().join(",")].join("|") : "";
  return `${documentId}\u0000${operationName ?? ""}\u0000${JSON.stringify(variableValues ?? {})}\u0000${credential}`;
}

function sharedResult(event: unknown, key: string, run: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
  if (typeof event !== "object" || event === null) return run();
  let results = resultsByEvent.get(event);
  if (!results) {
    results = new Map();
    resultsByEvent.set(event, results);
  }
  let result = results.get(key);
  if (!result) {
    result = run();
    results.set(key, result);
  }
  return result;
}

/** `source` with every value mapped; ending it ends `source` at once, even while it waits. */
function mapEach<T, R>(source: AsyncIterable<T>, map: (value: T) => Promise<R>): AsyncIterableIterator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const ended = async (): Promise<IteratorResult<R>> => {
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      const next = await iterator.next();
      return next.done ? { done: true, value: undefined } : { done: false, value: await map(next.value) };
    },
    return: ended,
    async throw(error: unknown) {
      await ended();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

export function useSharedSubscriptionResults(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const events = await createSourceEventStream(args);
        if (!isAsyncIterable(events)) return events; // the subscription was refused: its errors
        const key = sharingKey(args);
        return mapEach(events, (event) =>
          sharedResult(event, key, async () =>
            execute({ ...args, rootValue: event, contextValue: withFreshLoaders(args.contextValue as Context) }),
          ),
        );
      });
    },
  };
}
