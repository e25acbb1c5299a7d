// Connection cursors are checked before anything runs. Every connection pages by its rows'
// uuid (`cursor: "id"`), and plugin-prisma hands whatever a cursor decodes to (a number, JSON,
// a date, any string) to the database, which fails on it as an unexpected error. Refusing
// here covers every connection, nested ones included, whose cursors plugin-prisma reads
// while building the parent's query.
import {
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
  TypeInfo,
  type ValueNode,
  visit,
  visitWithTypeInfo,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { invalidInput } from "../errors.ts";
import { isStoredId } from "../schema/inputs.ts";

const CURSOR_ARGUMENTS = new Set(["after", "before"]);
const ID_CURSOR = "GPC:S:";

/** A connection of plugin-prisma's cursors; one that reads its own (the event log's ids) says so in its extensions. */
const isConnection = (field: GraphQLField<unknown, unknown>) => {
  if (field.extensions?.ownCursors) return false;
  const type = getNamedType(field.type);
  return isObjectType(type) && "edges" in type.getFields() && "pageInfo" in type.getFields();
};

/** What a cursor issued by this API decodes to: plugin-prisma's string chunk holding a row's id. */
const isIssuedCursor = (cursor: string): boolean => {
  const decoded = Buffer.from(cursor, "base64").toString("utf8");
  return decoded.startsWith(ID_CURSOR) && isStoredId(decoded.slice(ID_CURSOR.length));
};

const argumentValue = (node: ValueNode, variables: Record<string, unknown> | undefined): unknown =>
  node.kind === "Variable" ? variables?.[node.name.value] : node.kind === "StringValue" ? node.value : undefined;

interface CursorArgument {
  name: string;
  value: ValueNode;
}

/**
 * The cursor arguments of a document's connections, found once per document (documents are
 * cached and reused): a request then only reads their values, without walking the document.
 */
const cursorArgumentsByDocument = new WeakMap<DocumentNode, readonly CursorArgument[]>();
function cursorArgumentsOf(schema: GraphQLSchema, document: DocumentNode): readonly CursorArgument[] {
  let found = cursorArgumentsByDocument.get(document);
  if (!found) {
    const typeInfo = new TypeInfo(schema);
    const cursors: CursorArgument[] = [];
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Argument(node) {
          if (!CURSOR_ARGUMENTS.has(node.name.value)) return;
          const field = typeInfo.getFieldDef();
          if (field && isConnection(field)) cursors.push({ name: node.name.value, value: node.value });
        },
      }),
    );
    found = cursors;
    cursorArgumentsByDocument.set(document, found);
  }
  return found;
}

export function useCursorValidation(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = args.variableValues as Record<string, unknown> | undefined;
      const refused = cursorArgumentsOf(args.schema, args.document).find(({ value }) => {
        const cursor = argumentValue(value, variables);
        return typeof cursor === "string" && !isIssuedCursor(cursor);
      });
      if (refused) {
        setResultAndStopExecution({
          errors: [
            invalidInput(refused.name, "not a cursor of this connection; pass an edge's `cursor` or `pageInfo`'s start/end cursor."),
          ],
        });
      }
    },
  };
}
