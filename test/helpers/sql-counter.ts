// Keeps the SQL statements the Prisma client sends: the proof that a request's lookups are
// batched rather than one per row.
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { observeStatements } from "../../src/db/statement-counter.ts";

export class SqlCounter {
  statements: string[] = [];
  get count() {
    return this.statements.length;
  }
  reset() {
    this.statements = [];
  }
  wrap = (factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory =>
    observeStatements(factory, (sql) => this.statements.push(sql));
}
