// Runs Node scripts as child processes and waits until they say they are ready: the real
// server from source through tsx (`npm start` runs the same module built to JavaScript), and
// for the benchmark its built server and its floor.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The line the server logs once it listens; its first group is the server's base URL. */
export const SERVER_LISTENING = /"url":"(http:\/\/[^"]+)\/graphql"/;

export interface NodeProcess {
  child: ChildProcess;
  /** What matched `ready` in the process's output. */
  ready: RegExpExecArray;
  /** Everything it has written so far, stdout and stderr. */
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface NodeProcessOptions {
  env?: Record<string, string>;
  /** Matched against the output so far on each write to stdout. */
  ready: RegExp;
  /** Options for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  cwd?: string;
  /** Without it, waits for as long as the process lives. */
  timeoutMs?: number;
}

/**
 * Starts `script` (TypeScript through tsx, JavaScript as it is) with PORT=0 and
 * HOST=127.0.0.1 unless `env` says otherwise, and resolves once its output matches `ready`;
 * rejects if it exits first.
 */
export async function startNodeProcess(
  script: string,
  { env = {}, ready, nodeArgs = [], cwd = projectRoot, timeoutMs }: NodeProcessOptions,
): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...nodeArgs, ...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script], {
    cwd,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill("SIGKILL"); // not left running behind the failed test
            reject(new Error(`${script} did not start in time:\n${output}`));
          }, timeoutMs);
    const look = () => {
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        child.stdout.off("data", look);
        resolve(found);
      }
    };
    child.stdout.on("data", look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    ready: match,
    output: () => output,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface ServerProcess extends Omit<NodeProcess, "ready"> {
  url: string;
}

export async function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const { ready, ...server } = await startNodeProcess("src/server.ts", {
    env: { LOG_LEVEL: "info", ...env },
    ready: SERVER_LISTENING,
    timeoutMs,
  });
  return { ...server, url: ready[1]! };
}

export async function graphql(url: string, key: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}
