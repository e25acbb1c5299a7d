// What a field's selection asks of the objects it returns, read from the operation: a list
// resolver that knows its items' fields will need something can load it for all of them at
// once, instead of each item's field waiting on its own promise.
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

function selectsIn(selectionSet: SelectionSetNode | undefined, names: ReadonlySet<string>, info: GraphQLResolveInfo): boolean {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      if (names.has(selection.name.value)) return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectsIn(selection.selectionSet, names, info)) return true;
    } else if (selectsIn(info.fragments[selection.name.value]?.selectionSet, names, info)) {
      return true;
    }
  }
  return false;
}

/** Answers by field node: documents are parsed once and reused, and so are their nodes. */
const answers = new WeakMap<FieldNode, WeakMap<ReadonlySet<string>, boolean>>();

/**
 * Whether the objects this field returns are asked for any of `names` (directly or through
 * fragments; a field under @skip or @include counts as asked, which at worst loads for nothing).
 */
export function selectsAnyOf(info: GraphQLResolveInfo, names: ReadonlySet<string>): boolean {
  const [node, ...others] = info.fieldNodes;
  if (!node) return false;
  const known = others.length === 0 ? answers.get(node)?.get(names) : undefined;
  if (known !== undefined) return known;
  const found = info.fieldNodes.some((fieldNode) => selectsIn(fieldNode.selectionSet, names, info));
  if (others.length === 0) {
    const byNames = answers.get(node) ?? new WeakMap<ReadonlySet<string>, boolean>();
    byNames.set(names, found);
    answers.set(node, byNames);
  }
  return found;
}
