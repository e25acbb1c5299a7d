// Keeps the SQL statements the Prisma client sends: the proof that a request's lookups are
// batched rather than one per row.
import type { SqlMigrationAwareDriverAdapterFactory, SqlQuery } from "@prisma/driver-adapter-utils";
import { observeStatements } from "../../src/db/statement-counter.ts";

export class SqlCounter {
  statements: string[] = [];
  /** The same statements with their arguments, to be run again (test/api/usage-aggregates.test.ts). */
  queries: SqlQuery[] = [];
  get count() {
    return this.statements.length;
  }
  reset() {
    this.statements = [];
    this.queries = [];
  }
  wrap = (factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory =>
    observeStatements(factory, (sql, query) => {
      this.statements.push(sql);
      this.queries.push(query);
    });
}
