// Readiness (/readyz): the database answers and every migration on disk is applied.
import type { Database } from "./client.ts";
import { pendingMigrations } from "./migrations.ts";

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export async function databaseReadiness(database: Pick<Database, "adapterFactory">): Promise<Readiness> {
  try {
    const pending = await pendingMigrations(database.adapterFactory);
    return pending.length === 0 ? { ready: true } : { ready: false, reason: `pending migrations: ${pending.join(", ")}` };
  } catch {
    return { ready: false, reason: "the database does not answer" };
  }
}
