// What an operation may cost before it runs: every field counts once per object it is asked
// of, and a connection (a field taking `first`/`last`) multiplies what is selected under it
// by the page it asks for. `customers(first: 100) { edges { node { subscriptions(first: 100)
// { … } } } }` costs about 100 × 100 × the inner selection: the list sizes, not the text,
// decide what the database and the server will do. A field answering one object per item
// of a list argument (`nodes(ids:)`, `recordUsages(records:)`) multiplies likewise by the
// list's length. Pages over the maximum are reported too.
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

export interface PageSizeLimits {
  /** The page a connection serves when asked for neither `first` nor `last`. */
  defaultPageSize: number;
  /** The largest `first`/`last` accepted. */
  maxPageSize: number;
}

interface OversizedPage {
  /** Where, as the client wrote it: `customers.first`, `customer.subscriptions.last`. */
  field: string;
  value: number;
}

export interface OperationCost {
  cost: number;
  oversizedPages: OversizedPage[];
  /** `nodes(ids:)` naming more than `maxIds`: `nodes.ids`, with how many. */
  oversizedIdLists: OversizedPage[];
}

const PAGE_ARGUMENTS = ["first", "last"] as const;

/** The cost of `operationName` (or the document's only operation) with these variables. */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  limits: PageSizeLimits,
  maxIds = Number.POSITIVE_INFINITY,
): OperationCost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const operation = operationName
    ? operations.find((candidate) => candidate.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  const result: OperationCost = { cost: 0, oversizedPages: [], oversizedIdLists: [] };
  if (!operation) return result; // execution refuses it with its own error
  const root = schema.getRootType(operation.operation);
  if (!root) return result;
  // What execution will see: the variables sent, and the operation's defaults for those not sent.
  const values: Record<string, unknown> = { ...variables };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (values[name] === undefined && definition.defaultValue) values[name] = valueFromASTUntyped(definition.defaultValue);
  }

  const argumentValue = (field: FieldNode, name: string) => {
    const argument = field.arguments?.find((candidate) => candidate.name.value === name);
    return argument ? valueFromASTUntyped(argument.value, values) : undefined;
  };
  /** How many objects the field answers with: a connection's page, or one per id of `ids` or record of `records`. */
  const pageSizeOf = (field: FieldNode, definition: GraphQLField<unknown, unknown>, path: string): number | undefined => {
    const ids = argumentValue(field, "ids");
    if (Array.isArray(ids)) {
      if (ids.length > maxIds) result.oversizedIdLists.push({ field: `${path}.ids`, value: ids.length });
      return ids.length;
    }
    const records = argumentValue(field, "records");
    if (Array.isArray(records)) return records.length;
    if (!definition.args.some((argument) => argument.name === "first" || argument.name === "last")) return undefined;
    let size: number | undefined;
    for (const name of PAGE_ARGUMENTS) {
      const value = argumentValue(field, name);
      if (typeof value !== "number") continue;
      if (value > limits.maxPageSize) result.oversizedPages.push({ field: `${path}.${name}`, value });
      size = Math.max(size ?? 0, value);
    }
    return size ?? limits.defaultPageSize;
  };

  // The cost of a selection for one parent object: each field counts 1, plus its own
  // selection's cost times the objects it answers with. Cost is linear in that count, so a
  // fragment's cost is worked out once and reused wherever it is spread (walking it again
  // at every spread would let a few lines of nested fragments double the work per level).
  const fragmentCosts = new Map<string, number>();
  const costOf = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType | undefined,
    path: string,
    spreading: ReadonlySet<string>,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        cost += costOf(selection.selectionSet, type ?? undefined, path, spreading);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || spreading.has(name)) continue;
        let fragmentCost = fragmentCosts.get(name);
        if (fragmentCost === undefined) {
          fragmentCost = costOf(
            fragment.selectionSet,
            schema.getType(fragment.typeCondition.name.value) ?? undefined,
            path,
            new Set([...spreading, name]),
          );
          fragmentCosts.set(name, fragmentCost);
        }
        cost += fragmentCost;
      } else {
        cost += 1;
        if (!selection.selectionSet) continue;
        const definition =
          parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value] : undefined;
        const key = selection.alias?.value ?? selection.name.value;
        const fieldPath = path ? `${path}.${key}` : key;
        const pageSize = definition ? pageSizeOf(selection, definition, fieldPath) : undefined;
        cost +=
          (pageSize ?? 1) * costOf(selection.selectionSet, definition ? getNamedType(definition.type) : undefined, fieldPath, spreading);
      }
    }
    return cost;
  };
  result.cost = costOf(operation.selectionSet, root, "", new Set());
  return result;
}

/** Every connection's page: 20 unless asked, at most 100. */
export const PAGE_SIZE_LIMITS: PageSizeLimits = { defaultPageSize: 20, maxPageSize: 100 };
