// Customer tokens: signed (HS256), expiring tokens for one customer, for frontend apps.
// They may read that customer's entitlements and check them, nothing else.
import { errors, jwtVerify, SignJWT } from "jose";

const ISSUER = "entitlements-api";
const AUDIENCE = "customer";

export interface CustomerTokenClaims {
  projectId: string;
  customerId: string;
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

export async function issueCustomerToken(
  secret: string,
  claims: CustomerTokenClaims,
  ttlSeconds: number,
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + ttlSeconds) * 1000);
  const token = await new SignJWT({ pid: claims.projectId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(claims.customerId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(keyOf(secret));
  return { token, expiresAt };
}

/** The claims of a valid token; null when it is expired, tampered with, or not ours. */
export async function verifyCustomerToken(secret: string, token: string): Promise<CustomerTokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] });
    if (typeof payload.sub !== "string" || typeof payload.pid !== "string") return null;
    return { projectId: payload.pid, customerId: payload.sub };
  } catch (error) {
    if (error instanceof errors.JOSEError) return null;
    throw error;
  }
}

/** Customer tokens are JWTs; API keys are not. */
export const looksLikeCustomerToken = (credential: string) => credential.split(".").length === 3;
