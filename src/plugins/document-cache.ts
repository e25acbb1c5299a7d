// Yoga keeps parsed documents (and parse errors) by their text so that a repeated operation
// skips parsing and validation. Its cache is bounded by count (1,024), and a document's AST
// weighs some fifty times its text in heap: a client sending distinct large documents fills the heap
// long before the count is reached. This cache is bounded by the texts' total length instead;
// the validation results yoga keeps per document go with the document (a WeakMap).
import type { YogaServerOptions } from "graphql-yoga";

/** Characters of document text kept parsed; at ~50 bytes of AST per character, some 12 MB of heap. */
const DOCUMENT_CACHE_CHARS = 250_000;

/** Least recently used first out, once the keys' total length is over `maxChars`. */
function lengthBoundedCache<V>(maxChars: number) {
  const entries = new Map<string, V>();
  let chars = 0;
  return {
    get(key: string): V | undefined {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key: string, value: V): void {
      if (key.length > maxChars) return;
      if (entries.delete(key)) chars -= key.length;
      entries.set(key, value);
      chars += key.length;
      for (const oldest of entries.keys()) {
        if (chars <= maxChars) break;
        entries.delete(oldest);
        chars -= oldest.length;
      }
    },
  };
}

type CacheOptions = Exclude<NonNullable<YogaServerOptions<object, object>["parserAndValidationCache"]>, boolean>;

export const documentCache = (maxChars = DOCUMENT_CACHE_CHARS): CacheOptions => ({
  documentCache: lengthBoundedCache(maxChars),
  errorCache: lengthBoundedCache(maxChars),
  validationCache: true,
});
