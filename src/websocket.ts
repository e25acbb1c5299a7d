// GraphQL over WebSocket (the graphql-ws protocol) on the HTTP server's /graphql path,
// through the same yoga instance (plugins, context, auth) as HTTP and SSE.
import type { Server } from "node:http";
import type { ExecutionArgs } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { App } from "./yoga.ts";

type OperationResult = ReturnType<NonNullable<Parameters<typeof useServer>[0]["execute"]>>;

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

/** Serves graphql-ws on `server`; returns a function that closes every socket. */
export function attachWebSocket(server: Server, app: App): () => Promise<void> {
  const sockets = new WebSocketServer({ server, path: app.graphqlEndpoint });
  const protocol = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args as ExecutionArgs),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args as ExecutionArgs),
      onSubscribe: async (context, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.getEnveloped({
          ...context,
          req: context.extra.request,
          socket: context.extra.socket,
          params,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    sockets,
  );
  return async () => {
    await protocol.dispose();
    await new Promise<void>((resolve) => sockets.close(() => resolve()));
  };
}
