// /readyz answers 503 until the database answers and is migrated, and 503 again when it goes away.
import { PGlite } from "@electric-sql/pglite";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { databaseReadiness } from "../../src/db/readiness.ts";
import { createLogger } from "../../src/logger.ts";
import { createProjectWithAdminKey } from "../../src/auth/projects.ts";
import { createApp } from "../../src/yoga.ts";

describe("/readyz", () => {
  it("is 503 before migrations, 200 after, 503 once the database is gone (queries then SERVICE_UNAVAILABLE); /healthz stays 200", async () => {
    const pglite = new PGlite();
    const database = openDatabase({ kind: "pglite", instance: pglite });
    const app = createApp({ database, log: createLogger("silent"), isReady: () => databaseReadiness(database) });
    const status = async (path: string) => (await app.fetch(`http://test${path}`)).status;

    const before = await app.fetch("http://test/readyz");
    expect(before.status).toBe(503);
    expect((await before.json()).reason).toMatch(/^pending migrations: \d+_init/);

    await applyMigrations(database);
    expect(await status("/readyz")).toBe(200);
    const { secret } = await createProjectWithAdminKey(database.prisma, "readiness");
    const query = () =>
      app.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        body: JSON.stringify({ query: "{ features { totalCount } }" }),
      });
    expect(await (await query()).json()).toEqual({ data: { features: { totalCount: 0 } } });

    await database.close();
    await pglite.close();
    const after = await app.fetch("http://test/readyz");
    expect(after.status).toBe(503);
    expect(await after.json()).toEqual({ status: "unavailable", reason: "the database does not answer" });
    expect(await status("/healthz")).toBe(200);
    const failed = await (await query()).json();
    expect(failed.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(["SERVICE_UNAVAILABLE"]);
    // A key not seen before is checked against the database, before any resolver: the
    // answer names the request all the same.
    const unseenKey = await app.fetch("http://test/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer ent_neverSeenBeforeKey0123456789",
        "x-request-id": "req-readiness-0001",
      },
      body: JSON.stringify({ query: "{ features { totalCount } }" }),
    });
    expect((await unseenKey.json()).errors[0].extensions).toEqual({ code: "SERVICE_UNAVAILABLE", requestId: "req-readiness-0001" });
  });
});
