// GraphiQL on a browser's GET /graphql, served whole by this server.
import type { GraphiQLOptions } from "graphql-yoga";

/** What GraphiQL opens with: the demo's customers and what each may use (src/seed/demo.ts). */
const GRAPHIQL_DEFAULT_QUERY = `# The demo's customers and what each may use.
# Put your API key in the Headers tab below (the
# first start prints one), then run ▶ (Ctrl+Enter).
{
  customers(first: 10) {
    edges {
      node {
        externalId
        name
        entitlements {
          featureKey
          hasAccess
          usageLimit
          staticValue
          usage { used remaining periodEnd }
          sources { type entityName activeTo }
        }
      }
    }
  }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: "Entitlements API",
  defaultQuery: GRAPHIQL_DEFAULT_QUERY,
  headers: JSON.stringify({ Authorization: "Bearer <your API key>" }, null, 2),
};

// Yoga's own page loads GraphiQL's scripts and styles from a CDN, and stays on "Loading…"
// without internet; this one carries them inline (about 9 MB, its workers as blob URLs, no
// route of its own). Imported when a page is first asked for, so a server with GraphiQL off
// never loads it, and rendered once per set of options rather than on every request.
const pages = new Map<string, Promise<string>>();
export function renderGraphiQLOffline(options: GraphiQLOptions): Promise<string> {
  const key = JSON.stringify(options);
  let page = pages.get(key);
  if (!page) {
    page = import("@graphql-yoga/render-graphiql").then(({ renderGraphiQL }) => renderGraphiQL(options));
    pages.set(key, page);
  }
  return page;
}
