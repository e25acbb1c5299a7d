// `node(id:)` and `nodes(ids:)` over the caller's project. `nodes` reads each type's rows with
// one findMany, its selection planned once per type, so its work grows with the ids it names;
// an id of no Node type, of another project or of no row is a miss, and the others still answer.
import { brandWithType } from "@pothos/core";
import { queryFromInfo } from "@pothos/plugin-prisma";
import { isObjectType, type GraphQLObjectType, type GraphQLResolveInfo } from "graphql";
import type { Context } from "../context.ts";
import { isStoredId } from "./inputs.ts";

interface GlobalId {
  id: string;
  typename: string;
}

type Where = Record<string, unknown>;
type Delegate = { findMany(args: object): Promise<{ id: string }[]> };
/** plugin-prisma keeps each type's `findUnique` on its loader: the one place a type says which rows a project sees. */
type PrismaLoader = (context: object) => { findUnique(row: { id: string }, context: object): Where | Promise<Where> };

/** The Node type `id` names, when it names one by a stored id; else the id cannot be found. */
export function nodeTypeOf(info: GraphQLResolveInfo, { id, typename }: GlobalId): GraphQLObjectType | undefined {
  if (!isStoredId(id) || !Object.hasOwn(info.schema.getTypeMap(), typename)) return undefined;
  const type = info.schema.getType(typename);
  return isObjectType(type) && type.getInterfaces().some((node) => node.name === "Node") ? type : undefined;
}

/** The nodes `ids` name, in order; null for each miss. */
export async function loadNodes(ids: readonly GlobalId[], context: Context, info: GraphQLResolveInfo): Promise<(object | null)[]> {
  const byType = new Map<GraphQLObjectType, Set<string>>();
  for (const globalId of ids) {
    const type = nodeTypeOf(info, globalId);
    if (type) byType.set(type, (byType.get(type) ?? new Set()).add(globalId.id));
  }
  const found = new Map<string, object>();
  await Promise.all(
    [...byType].map(async ([type, typeIds]) => {
      for (const row of await rowsOf(type, [...typeIds], context, info)) {
        brandWithType(row, type.name as never); // how the Node interface tells the row's type
        found.set(`${type.name}:${row.id}`, row);
      }
    }),
  );
  return ids.map(({ id, typename }) => found.get(`${typename}:${id}`) ?? null);
}

async function rowsOf(type: GraphQLObjectType, ids: string[], context: Context, info: GraphQLResolveInfo) {
  const model = String(type.extensions.pothosPrismaModel);
  const loader = type.extensions.pothosPrismaLoader as PrismaLoader;
  const [first] = ids as [string];
  const where = await loader(context).findUnique({ id: first }, context);
  if (where.id !== first) throw new Error(`${type.name}'s findUnique does not select by id`);
  const query = await queryFromInfo({ context, info, typeName: type.name, awaitSelections: true });
  const delegate = (context.prisma as unknown as Record<string, Delegate>)[model.charAt(0).toLowerCase() + model.slice(1)]!;
  return delegate.findMany({ ...query, where: { ...where, id: { in: ids } } });
}
