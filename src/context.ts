// The per-request context: who is asking, the database, and the request's DataLoaders.
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { Caller } from "./auth/api-keys.ts";
import { createLoaders, type Loaders } from "./loaders/index.ts";
import type { Logger } from "./logger.ts";
import { unauthenticated } from "./errors.ts";

export interface Context {
  readonly prisma: PrismaClient;
  readonly caller: Caller | null;
  readonly requestId: string;
  readonly log: Logger;
  readonly loaders: Loaders;
}

export function createContext(input: {
  prisma: PrismaClient;
  caller: Caller | null;
  requestId: string;
  log: Logger;
}): Context {
  return {
    ...input,
    loaders: createLoaders(input.prisma, input.caller?.projectId ?? null),
  };
}

/** The caller's project; every query and write is scoped to it. */
export function projectIdOf(context: Context): string {
  if (!context.caller) throw unauthenticated();
  return context.caller.projectId;
}
