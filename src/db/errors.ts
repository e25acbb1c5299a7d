// Recognising database failures in one place (Prisma 7 with driver adapters).

interface PrismaLikeError {
  code?: string;
  meta?: { modelName?: string; target?: unknown; driverAdapterError?: { cause?: { kind?: string; constraint?: unknown } } };
}

/** The columns of a violated unique constraint, or null when `error` is something else. */
export function uniqueViolationFields(error: unknown): string[] | null {
  const prismaError = error as PrismaLikeError | null;
  if (prismaError?.code !== "P2002") return null;
  const constraint = prismaError.meta?.driverAdapterError?.cause?.constraint as { fields?: string[]; index?: string } | undefined;
  const fields = constraint?.fields ?? (Array.isArray(prismaError.meta?.target) ? (prismaError.meta?.target as string[]) : []);
  return fields.map((field) => field.replace(/^"|"$/g, ""));
}

// P2028: a transaction that could not start in time, or outlived its time waiting on the database.
const UNAVAILABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
/** The driver adapter's kinds for a connection lost or never made (Prisma 7 wraps them in P2010 and others). */
const UNAVAILABLE_ADAPTER_KINDS = new Set(["ConnectionClosed", "DatabaseNotReachable", "SocketTimeout"]);
const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|timeout exceeded when trying to connect|Can't reach database|server closed the connection|the database system is (starting up|shutting down)|PGlite is closed|Query read timeout|Server has closed the connection/i;

/** True when the database could not be reached (as opposed to a query going wrong). */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as PrismaLikeError & { message?: string; cause?: unknown };
    if (candidate.code && UNAVAILABLE_CODES.has(candidate.code)) return true;
    // The driver adapter's own error (a raw transaction's, src/db/raw-transaction.ts) carries the kind as its cause.
    const kind = candidate.meta?.driverAdapterError?.cause?.kind ?? (candidate as { kind?: string }).kind;
    if (kind && UNAVAILABLE_ADAPTER_KINDS.has(kind)) return true;
    if (typeof candidate.message === "string" && UNAVAILABLE_MESSAGE.test(candidate.message)) return true;
    current = candidate.cause;
  }
  return false;
}

/** Prisma's "required record not found" (P2025): a row that vanished or was never ours. */
export const isRecordNotFound = (error: unknown) => (error as PrismaLikeError | null)?.code === "P2025";

/** Runs a write that inserts a unique value; a duplicate becomes `duplicate()`'s error. */
export async function refusingDuplicates<T>(write: () => Promise<T>, duplicate: () => Error): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (uniqueViolationFields(error)) throw duplicate();
    throw error;
  }
}
