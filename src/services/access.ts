// Who may call: API keys (ADMIN manages them; a new key's secret is shown once) and
// customer tokens for frontend apps (one customer's entitlements, nothing else).
import { generateApiKeySecret, hashApiKey, visiblePrefix } from "../auth/api-keys.ts";
import { issueCustomerToken } from "../auth/customer-tokens.ts";
import type { ApiKey, ApiKeyScope } from "../generated/prisma/client.ts";
import { invalidOperation, notFound } from "../errors.ts";
import { resolveCustomerRef, type CustomerRef } from "./customers.ts";
import { invalidatingWrite, type ProjectScope } from "./scope.ts";
import { auditedWrite, auditIn } from "./audit.ts";

export async function createApiKey(
  scope: ProjectScope,
  input: { name: string; scopes: readonly ApiKeyScope[] },
): Promise<{ apiKey: ApiKey; secret: string }> {
  const secret = generateApiKeySecret();
  const apiKey = await auditedWrite(scope, "ApiKey", (tx) =>
    tx.apiKey.create({
      data: {
        projectId: scope.projectId,
        name: input.name,
        prefix: visiblePrefix(secret),
        hash: hashApiKey(secret),
        scopes: [...new Set(input.scopes)],
      },
    }),
  );
  return { apiKey, secret };
}

/** Revokes a key at once. The project's last active ADMIN key cannot be revoked. */
export async function revokeApiKey(scope: ProjectScope, id: string): Promise<ApiKey> {
  const { projectId } = scope;
  // Every instance forgets the project's cached keys: the revoked one stops working at once.
  return invalidatingWrite(scope, { apiKeys: true }, () =>
    scope.prisma.$transaction(async (tx) => {
      const key = await tx.apiKey.findFirst({ where: { id, projectId } });
      if (!key) throw notFound("API key", "id");
      if (key.revokedAt) throw invalidOperation("The API key is already revoked", "id");
      if (key.scopes.includes("ADMIN")) {
        const activeKeys = await tx.apiKey.findMany({ where: { projectId, revokedAt: null, id: { not: key.id } } });
        if (!activeKeys.some((other) => other.scopes.includes("ADMIN"))) {
          throw invalidOperation("This is the project's last active ADMIN key", "id");
        }
      }
      const revoked = await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
      await auditIn(tx, { type: "ApiKey", id: revoked.id });
      return revoked;
    }),
  );
}

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** A token that can only read this one customer's entitlements and check them. */
export async function createCustomerToken(
  scope: ProjectScope,
  signingSecret: string,
  customerRef: CustomerRef,
  ttlSeconds: number | null | undefined,
) {
  const customer = await resolveCustomerRef(scope, customerRef, "customer");
  return issueCustomerToken(
    signingSecret,
    { projectId: scope.projectId, customerId: customer.id },
    ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
  );
}
