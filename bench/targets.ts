// The servers under test: ours as `npm start` runs it (built, from this checkout or from
// another revision's worktree) and the floor (floor.ts), each a child process on the
// bench's database.
import { spawnSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, SERVER_LISTENING, startNodeProcess } from "../test/helpers/process.ts";

export interface RunningTarget {
  /** Base URL, no trailing slash. */
  url: string;
  stop(): Promise<unknown>;
}

/** How the server is run, on top of the database it is given. */
export interface ServerRunOptions {
  /** The server's JavaScript heap limit (node --max-old-space-size), in MB. */
  heapMb: number;
  /** Writes a V8 CPU profile into this directory when set. */
  cpuProfDir?: string;
}

function runCommand(command: string, commandArgs: string[], cwd: string, env: Record<string, string> = {}) {
  // Their output goes to stderr: stdout is the report.
  const result = spawnSync(command, commandArgs, { cwd, stdio: ["ignore", 2, 2], env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(" ")} failed in ${cwd}`);
}

/** Builds the server as `npm run build` does, in `dir` (this checkout or another revision's). */
export function buildServer(dir = projectRoot) {
  runCommand(process.execPath, [join(projectRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], dir);
}

/** The server built in `dir`, as `npm start` runs it (with the heap limit of `options`), on the database `databaseEnv` names. */
export async function startServer(
  databaseEnv: Record<string, string>,
  options: ServerRunOptions,
  dir = projectRoot,
): Promise<RunningTarget> {
  const server = await startNodeProcess("dist/src/server.js", {
    // The rate limiter counts every request (so its cost is measured) but never refuses: one key drives thousands a second.
    env: {
      ...databaseEnv,
      NODE_ENV: "production",
      SEED_DEMO: "false",
      LOG_LEVEL: "info",
      RATE_LIMIT_REQUESTS: "1000000000",
      RATE_LIMIT_USAGE: "1000000000",
      // S2's receiver listens on loopback.
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    },
    ready: SERVER_LISTENING,
    nodeArgs: [
      ...(options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : []),
      `--max-old-space-size=${options.heapMb}`,
    ],
    cwd: dir,
  });
  return { url: server.ready[1]!, stop: server.stop };
}

/** The floor on the database `floorEnv` names, answering for `projectId`. */
export async function startFloor(floorEnv: Record<string, string>, projectId: string): Promise<RunningTarget> {
  const floor = await startNodeProcess("bench/floor.ts", {
    env: { ...floorEnv, FLOOR_PROJECT_ID: projectId },
    ready: /floor listening (\d+)/,
  });
  return { url: `http://127.0.0.1:${floor.ready[1]}`, stop: floor.stop };
}

/** Another revision's server, built in a temporary git worktree that shares this checkout's node_modules. */
export function checkOutRevision(revision: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "entitlements-base-"));
  runCommand("git", ["worktree", "add", "--detach", "--force", dir, revision], projectRoot);
  const remove = () => runCommand("git", ["worktree", "remove", "--force", dir], projectRoot);
  try {
    symlinkSync(join(projectRoot, "node_modules"), join(dir, "node_modules"));
    // Its own Prisma client, from its own schema (the generated client is not committed).
    runCommand(process.execPath, [join(projectRoot, "node_modules/prisma/build/index.js"), "generate"], dir, {
      PRISMA_SCHEMA_ENGINE_BINARY: "./scripts/no-native-schema-engine.sh",
    });
    buildServer(dir);
  } catch (error) {
    remove(); // a revision that does not build leaves no worktree behind
    throw error;
  }
  return { dir, remove };
}
