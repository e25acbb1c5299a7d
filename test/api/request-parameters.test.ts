// The GraphQL parameters of GET and form POST requests: `variables` and `extensions` that are
// not readable JSON are the client's mistake, answered 400 VALIDATION_ERROR naming the
// parameter; and whatever fails, an error quoting a request id quotes the one of the
// response's x-request-id header.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.ts";

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const REQUEST_ID = "req-parameters-0123456789";
const FORM = "application/x-www-form-urlencoded";

const send = (path: string, init: RequestInit = {}, accept = "application/graphql-response+json") =>
  t.app.fetch(`http://test${path}`, {
    ...init,
    headers: { authorization: `Bearer ${t.adminKey}`, "x-request-id": REQUEST_ID, accept, ...(init.headers as Record<string, string>) },
  });

/** The status and each error's code, field and request id, with whether its message names the field. */
async function answer(response: Response) {
  const body = (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return {
    status: response.status,
    errors: body.errors?.map(({ message, extensions = {} }) => ({
      code: extensions.code,
      field: extensions.field,
      named: typeof extensions.field === "string" && message.includes(extensions.field),
      ...(extensions.requestId === undefined ? {} : { requestId: extensions.requestId }),
    })),
  };
}

const UNREADABLE = [
  { parameter: "variables", text: "{" },
  { parameter: "variables", text: "[" },
  { parameter: "extensions", text: "{bad" },
  { parameter: "extensions", text: '{"a":' },
];

describe("unreadable variables and extensions", () => {
  for (const accept of ["application/graphql-response+json", "application/json"]) {
    it(`are 400 VALIDATION_ERROR naming the parameter, on GET and on a form POST (accept ${accept})`, async () => {
      for (const { parameter, text } of UNREADABLE) {
        const params = new URLSearchParams({ query: "{ __typename }", [parameter]: text });
        const expected = { status: 400, errors: [{ code: "VALIDATION_ERROR", field: parameter, named: true }] };
        expect({ get: text, ...(await answer(await send(`/graphql?${params}`, {}, accept))) }).toEqual({ get: text, ...expected });
        const form = await send("/graphql", { method: "POST", headers: { "content-type": FORM }, body: String(params) }, accept);
        expect({ form: text, ...(await answer(form)) }).toEqual({ form: text, ...expected });
      }
    });
  }

  it("readable ones still run, on GET and on a form POST", async () => {
    const params = new URLSearchParams({
      query: "query ($n: Boolean!) { __typename @include(if: $n) }",
      variables: '{"n":true}',
      extensions: "{}",
    });
    for (const response of [
      await send(`/graphql?${params}`),
      await send("/graphql", { method: "POST", headers: { "content-type": FORM }, body: String(params) }),
    ]) {
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { data: { __typename: "Query" } } });
    }
  });
});

describe("the request id in errors", () => {
  it("is the x-request-id header's, for a failure before the operation runs (a body that breaks while read)", async () => {
    const body = new ReadableStream({
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    const response = await send("/graphql", { method: "POST", headers: { "content-type": FORM }, body, duplex: "half" } as RequestInit);
    expect(response.headers.get("x-request-id")).toBe(REQUEST_ID);
    const { errors } = await answer(response);
    expect(errors).toEqual([expect.objectContaining({ code: "INTERNAL_ERROR", requestId: REQUEST_ID })]);
  });
});
