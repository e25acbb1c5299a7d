// Transactions of raw SQL statements alone, for the hottest write path (a usage record whose
// limit is watched). Prisma's interactive transaction spends about as much JavaScript on each
// statement as PostgreSQL spends running a small one: a lock, an insert and a sum in one went
// at 0.6–0.7× the rate of the same statements sent straight to the driver (docs/performance.md).
// These go to the driver adapter behind the Prisma client, on its pool, counted as its
// statements are; on the embedded database, which has one connection anyway, they are a
// Prisma transaction.
import { ColumnTypeEnum, type ArgType, type ColumnType, type SqlResultSet, type SqlDriverAdapter } from "@prisma/driver-adapter-utils";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";

/** The part of a Prisma client that raw SQL needs, answered as the client answers it. */
export interface RawSql {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number>;
}

/** Runs `work` in one transaction, committed when it returns and rolled back when it throws. */
export type RawTransactions = <T>(work: (sql: RawSql) => Promise<T>) => Promise<T>;

/** Over the Prisma client's own interactive transactions. */
export const prismaTransactions =
  (prisma: PrismaClient): RawTransactions =>
  (work) =>
    prisma.$transaction((tx) => work(tx));

const sqlOf = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]) =>
  query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);

function argTypeOf(value: unknown): ArgType {
  const element = Array.isArray(value) ? value.find((item) => item !== null && item !== undefined) : value;
  return { scalarType: element instanceof Date ? "datetime" : "unknown", arity: Array.isArray(value) ? "list" : "scalar" };
}

/** A value of the driver adapter's result as Prisma's $queryRaw gives it. */
function decode(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case ColumnTypeEnum.DateTime:
    case ColumnTypeEnum.Date:
      return new Date(value as string);
    case ColumnTypeEnum.Int64:
      return BigInt(value as string);
    case ColumnTypeEnum.Numeric:
      return new Prisma.Decimal(value as string);
    case ColumnTypeEnum.Json:
      return typeof value === "string" ? JSON.parse(value) : value;
    case ColumnTypeEnum.DateTimeArray:
    case ColumnTypeEnum.DateArray:
      return (value as unknown[]).map((item) => decode(item, ColumnTypeEnum.DateTime));
    case ColumnTypeEnum.Int64Array:
      return (value as unknown[]).map((item) => decode(item, ColumnTypeEnum.Int64));
    case ColumnTypeEnum.NumericArray:
      return (value as unknown[]).map((item) => decode(item, ColumnTypeEnum.Numeric));
    case ColumnTypeEnum.JsonArray:
      return (value as unknown[]).map((item) => decode(item, ColumnTypeEnum.Json));
    default:
      return value;
  }
}

const rowsOf = ({ columnNames, columnTypes, rows }: SqlResultSet) =>
  rows.map((row) => Object.fromEntries(columnNames.map((name, index) => [name, decode(row[index], columnTypes[index] as ColumnType)])));

/**
 * Over a driver adapter (the Prisma client's, or one counted the same way), BEGIN and COMMIT
 * sent as Prisma sends them; `dispose` lets go of the adapter.
 */
export function adapterTransactions(connect: () => Promise<SqlDriverAdapter>): { run: RawTransactions; dispose(): Promise<void> } {
  let adapter: Promise<SqlDriverAdapter> | undefined;
  const connected = () =>
    (adapter ??= connect().catch((error: unknown) => {
      adapter = undefined;
      throw error;
    }));
  const run = async <T>(work: (sql: RawSql) => Promise<T>): Promise<T> => {
    const transaction = await (await connected()).startTransaction();
    const statement = (template: TemplateStringsArray | Prisma.Sql, values: unknown[]) => {
      const { text, values: args } = sqlOf(template, values);
      return { sql: text, args, argTypes: args.map(argTypeOf) };
    };
    const sql: RawSql = {
      $queryRaw: async <R>(template: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
        rowsOf(await transaction.queryRaw(statement(template, values))) as R,
      $executeRaw: (template, ...values) => transaction.executeRaw(statement(template, values)),
    };
    const end = async (sql: "COMMIT" | "ROLLBACK") => {
      try {
        await transaction.executeRaw({ sql, args: [], argTypes: [] });
      } finally {
        await (sql === "COMMIT" ? transaction.commit() : transaction.rollback());
      }
    };
    let result: T;
    try {
      result = await work(sql);
    } catch (error) {
      await end("ROLLBACK").catch(() => {});
      throw error;
    }
    await end("COMMIT");
    return result;
  };
  return {
    run,
    async dispose() {
      if (adapter) await (await adapter.catch(() => null))?.dispose();
    },
  };
}
