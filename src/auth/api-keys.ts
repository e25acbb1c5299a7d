// API keys: random secrets shown once, stored as SHA-256 hashes, with READ/WRITE/ADMIN scopes.
import { createHash, randomBytes } from "node:crypto";
import type { EntitlementCache } from "../cache/entitlement-cache.ts";
import type { ApiKeyScope, PrismaClient } from "../generated/prisma/client.ts";

const SECRET_PREFIX = "ent_";
/** How many characters of a secret are kept to recognise it (`ApiKey.prefix`). */
const VISIBLE_PREFIX_LENGTH = 12;

export interface Caller {
  projectId: string;
  /** Effective scopes: ADMIN implies WRITE, WRITE implies READ. A customer token has none. */
  scopes: ReadonlySet<ApiKeyScope>;
  apiKeyId?: string;
  /** The key's prefix and name, as the audit log names who wrote. */
  apiKey?: { prefix: string; name: string };
  /** Set for a customer token: the one customer whose entitlements it may read. */
  customerId?: string;
}

export function generateApiKeySecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64url");
}

export function hashApiKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function visiblePrefix(secret: string): string {
  return secret.slice(0, VISIBLE_PREFIX_LENGTH);
}

function effectiveScopes(granted: readonly ApiKeyScope[]): Set<ApiKeyScope> {
  const scopes = new Set<ApiKeyScope>(granted);
  if (scopes.has("ADMIN")) scopes.add("WRITE");
  if (scopes.has("WRITE")) scopes.add("READ");
  return scopes;
}

/** The caller behind a secret, or null when it is unknown or revoked. */
export async function authenticateApiKey(prisma: PrismaClient, secret: string, cache?: EntitlementCache): Promise<Caller | null> {
  const hash = hashApiKey(secret);
  const find = () => prisma.apiKey.findUnique({ where: { hash } });
  const key = cache ? await cache.apiKey(hash, find) : await find();
  if (!key || key.revokedAt) return null;
  return {
    projectId: key.projectId,
    apiKeyId: key.id,
    apiKey: { prefix: key.prefix, name: key.name },
    scopes: effectiveScopes(key.scopes),
  };
}

/** Reads the key from `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function apiKeyFromHeaders(headers: Headers): string | null {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? null;
  }
  return headers.get("x-api-key")?.trim() || null;
}
