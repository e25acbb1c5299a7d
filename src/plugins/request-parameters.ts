// GET and form POST requests carry `variables` and `extensions` as JSON text. Yoga's own
// parser lets JSON.parse's SyntaxError escape, which reads as an unexpected failure; this one
// answers 400 VALIDATION_ERROR naming the parameter that is not readable JSON.
import type { GraphQLParams, Plugin } from "graphql-yoga";
import { invalidInput } from "../errors.ts";

const FORM = "application/x-www-form-urlencoded";

function jsonParameter(params: URLSearchParams, name: "variables" | "extensions"): unknown {
  const text = params.get(name);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    const error = invalidInput(name, "is not readable JSON.");
    Object.assign(error.extensions, { http: { status: 400 } });
    throw error;
  }
}

/** The request's GraphQL parameters, as yoga reads them (an empty value counts as absent). */
const graphqlParams = (params: URLSearchParams): GraphQLParams => ({
  operationName: params.get("operationName") || undefined,
  query: params.get("query") || undefined,
  variables: jsonParameter(params, "variables") as GraphQLParams["variables"],
  extensions: jsonParameter(params, "extensions") as GraphQLParams["extensions"],
});

const isForm = (request: Request) => {
  const type = request.headers.get("content-type")?.split(",")[0]?.trim();
  return type === FORM || !!type?.startsWith(`${FORM};`);
};

export function useReadableParameters(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method === "GET") {
        setRequestParser((get) => graphqlParams(new URL(get.url).searchParams));
      } else if (request.method === "POST" && isForm(request)) {
        setRequestParser(async (post) => graphqlParams(new URLSearchParams(await post.text())));
      }
    },
  };
}
