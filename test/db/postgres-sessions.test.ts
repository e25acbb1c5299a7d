// How the service's connections to a PostgreSQL server are set up.
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { POSTGRES_ADMIN_URL } from "../helpers/postgres.ts";

describe("PostgreSQL connections", () => {
  it("run without JIT compilation, from their first statement on, on every connection of the pool", async () => {
    // The server's default is on: without the setting, a usage sum over 800 keys spent
    // ~300 ms compiling for ~10 ms of work (docs/performance.md).
    const database = openDatabase({ kind: "postgres", url: POSTGRES_ADMIN_URL, poolSize: 4 });
    try {
      // Four at once: each waits for a connection of its own (pg_sleep holds it), so the
      // pool opens four, and each one's first statement is this one.
      const sessionSettings = () =>
        database.prisma.$queryRaw<{ jit: string; pid: number }[]>`
          SELECT current_setting('jit') AS jit, pg_backend_pid() AS pid, pg_sleep(0.2)::text`;
      const answers = await Promise.all(Array.from({ length: 4 }, sessionSettings));
      expect(new Set(answers.map(([row]) => row?.pid)).size).toBe(4);
      expect(answers.map(([row]) => row?.jit)).toEqual(["off", "off", "off", "off"]);
    } finally {
      await database.close();
    }
  });
});
