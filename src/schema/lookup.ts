// Root lookups by global ID or by the caller's own key (feature key, plan key, externalId),
// and answering a written row with what the client selected of it.
import { invalidInput, notFound } from "../errors.ts";

export interface Lookup {
  where: Record<string, string>;
  field: string;
  value?: string;
}

/** Exactly one of `id` or `keyField` must be given (VALIDATION_ERROR otherwise). */
export function byIdOrKey(args: { id?: string | null } & Record<string, unknown>, keyField: string): Lookup {
  const key = args[keyField];
  if (!args.id === !key) throw invalidInput("id", `give exactly one of id or ${keyField}`);
  return args.id ? { where: { id: args.id }, field: "id" } : { where: { [keyField]: String(key) }, field: keyField, value: String(key) };
}

/** The row found, or NOT_FOUND naming what was looked up. */
export function foundOrThrow<T>(what: string, lookup: Lookup, row: T | null): T {
  if (!row) throw notFound(what, lookup.field, lookup.value);
  return row;
}

/**
 * A row a service wrote, as the client asked for it: the row itself when the selection
 * needs nothing stored beside it, else read again with plugin-prisma's `query` (relations).
 */
export async function asSelected<Row extends { id: string }, Query extends object>(
  query: Query,
  row: Row,
  reread: (args: Query & { where: { id: string } }) => Promise<Row>,
): Promise<Row> {
  return Object.keys(query).length === 0 ? row : reread({ ...query, where: { id: row.id } });
}

/** Rows a service wrote, as the client asked for them: `asSelected` for a list, read again in one statement, in their order. */
export async function allAsSelected<Row extends { id: string }, Query extends object>(
  query: Query,
  rows: readonly Row[],
  reread: (args: Query & { where: { id: { in: string[] } } }) => Promise<Row[]>,
): Promise<Row[]> {
  // Read whole even when no row is read again (an empty list): plugin-prisma checks the selection was used.
  const selection = { ...query };
  if (Object.keys(selection).length === 0 || rows.length === 0) return [...rows];
  const ids = [...new Set(rows.map((row) => row.id))];
  const found = new Map((await reread({ ...selection, where: { id: { in: ids } } })).map((row) => [row.id, row]));
  return rows.map((row) => found.get(row.id) ?? row);
}
