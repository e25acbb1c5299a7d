import { createRequire } from "node:module";
import { configDefaults, defineConfig } from "vitest/config";

// One graphql module for everyone: Pothos loads graphql's CommonJS build, so the tests must
// too, or schema objects from "another realm" are refused.
const graphqlEntry = createRequire(import.meta.url).resolve("graphql");

// Tests that need nothing but the code: no database, no port, no Redis, no child process.
// They live beside the rest of their subject where that reads better (test/server), so they
// are named here one by one; every other file of those folders needs the machine.
const PURE_ELSEWHERE = [
  "test/server/config.test.ts",
  "test/server/operation-cost.test.ts",
  "test/server/shared-subscription-results.test.ts",
  "test/schema/well-formed.test.ts",
];

// "unit": the pure tests, quick and runnable anywhere (`npx vitest run --project unit`).
// "integration": what needs the machine's services or starts them (databases, listening
// servers, Redis, child processes). The GraphQL suite (test/api) runs twice: on the embedded
// PostgreSQL (PGlite) and on a real PostgreSQL server (a fresh database per run, dropped
// afterwards). `vitest run` runs every project.
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "test/domain/**/*.test.ts",
            "test/events/**/*.test.ts",
            "test/cache/**/*.test.ts",
            "test/services/**/*.test.ts",
            "test/net/**/*.test.ts",
            ...PURE_ELSEWHERE,
          ],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/db/**/*.test.ts", "test/schema/**/*.test.ts", "test/server/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...PURE_ELSEWHERE],
        },
      },
      {
        extends: true,
        test: {
          name: "api:pglite",
          include: ["test/api/**/*.test.ts"],
          env: { TEST_DATABASE: "pglite" },
          globalSetup: ["test/helpers/pglite-global-setup.ts"],
        },
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
