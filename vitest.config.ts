import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

// One graphql module for everyone: Pothos loads graphql's CommonJS build, so the tests must
// too, or schema objects from "another realm" are refused.
const graphqlEntry = createRequire(import.meta.url).resolve("graphql");

// The GraphQL suite (test/api) runs twice: on the embedded PostgreSQL (PGlite) and on a
// real PostgreSQL server (a fresh database per run, dropped afterwards).
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/domain/**/*.test.ts", "test/events/**/*.test.ts", "test/cache/**/*.test.ts", "test/db/**/*.test.ts", "test/schema/**/*.test.ts", "test/server/**/*.test.ts"] },
      },
      {
        extends: true,
        test: { name: "api:pglite", include: ["test/api/**/*.test.ts"], env: { TEST_DATABASE: "pglite" }, globalSetup: ["test/helpers/pglite-global-setup.ts"] },
      },
      {
        extends: true,
        test: {
          name: "api:postgres",
          include: ["test/api/**/*.test.ts"],
          env: { TEST_DATABASE: "postgres" },
          globalSetup: ["test/helpers/postgres-global-setup.ts"],
        },
      },
      {
        // Alone, after everything else: it loads the machine.
        extends: true,
        test: { name: "bench-smoke", include: ["test/bench/**/*.test.ts"], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
