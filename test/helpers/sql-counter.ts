// Counts the SQL statements the Prisma client sends, by wrapping its driver adapter:
// the proof that a request's lookups are batched rather than one per row.
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQueryable,
  Transaction,
} from "@prisma/driver-adapter-utils";

export class SqlCounter {
  statements: string[] = [];
  get count() {
    return this.statements.length;
  }
  reset() {
    this.statements = [];
  }

  private countQueries<T extends SqlQueryable>(queryable: T): T {
    return new Proxy(queryable, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property === "queryRaw" || property === "executeRaw") {
          return (query: { sql: string }) => {
            this.statements.push(query.sql);
            return value.call(target, query);
          };
        }
        if (property === "startTransaction") {
          return async (...args: unknown[]) => this.countQueries((await value.apply(target, args)) as Transaction);
        }
        return value.bind(target);
      },
    });
  }

  wrap = (factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory => {
    const counter = this;
    return new Proxy(factory, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === "connect") {
          return async () => counter.countQueries((await value.call(target)) as SqlDriverAdapter);
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
}
