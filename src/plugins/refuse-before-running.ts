// A plugin that looks at each operation once its variables are known — a query or mutation
// about to execute, a subscription about to start — and may refuse it with an error instead.
import type { ExecutionArgs, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

export type Refusal = (args: ExecutionArgs) => GraphQLError | null | Promise<GraphQLError | null>;

export function refuseBeforeRunning(refusal: Refusal): Plugin {
  const hook = ({
    args,
    setResultAndStopExecution,
  }: {
    args: ExecutionArgs;
    setResultAndStopExecution(result: { errors: GraphQLError[] }): void;
  }) => {
    const stopOn = (error: GraphQLError | null) => {
      if (error) setResultAndStopExecution({ errors: [error] });
    };
    const error = refusal(args);
    // A synchronous refusal stays synchronous: no extra turn on every request.
    return error instanceof Promise ? error.then(stopOn) : stopOn(error);
  };
  return { onExecute: hook, onSubscribe: hook };
}
