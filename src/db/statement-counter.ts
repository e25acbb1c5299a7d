// Counts the SQL statements the Prisma client sends, by wrapping its driver adapter: the
// server exposes the count at /metrics, the tests prove batching with it, and the benchmark
// divides it by requests.
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  SqlQueryable,
  Transaction,
} from "@prisma/driver-adapter-utils";

/** Wraps `factory` so that `onStatement` hears every statement sent (with its arguments), transactions included. */
export function observeStatements(
  factory: SqlMigrationAwareDriverAdapterFactory,
  onStatement: (sql: string, query: SqlQuery) => void,
): SqlMigrationAwareDriverAdapterFactory {
  const observe = <T extends SqlQueryable>(queryable: T): T =>
    new Proxy(queryable, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property === "queryRaw" || property === "executeRaw") {
          return (query: SqlQuery) => {
            onStatement(query.sql, query);
            return value.call(target, query);
          };
        }
        if (property === "startTransaction") {
          return async (...args: unknown[]) => observe((await value.apply(target, args)) as Transaction);
        }
        return value.bind(target);
      },
    });
  return new Proxy(factory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === "connect") return async () => observe((await value.call(target)) as SqlDriverAdapter);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
