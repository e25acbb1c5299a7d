// DateTime (RFC 3339 with an offset) and JSON (an object: metadata).
import { GraphQLError, Kind, type ValueNode } from "graphql";
import { builder, type JsonObject } from "./builder.ts";
import { ErrorCode } from "../errors.ts";
import { parseInstant, RefusedDateTime, representableInstant } from "./well-formed.ts";

const MAX_METADATA_BYTES = 16_384;

const invalidScalar = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.VALIDATION_ERROR } });

builder.scalarType("DateTime", {
  description: "An ISO-8601 instant with offset, e.g. 2026-01-15T10:30:00Z.",
  serialize: (value) => {
    const date = value instanceof Date ? value : parseInstant(value);
    if (Number.isNaN(date.getTime()))
      throw invalidScalar(`DateTime ${date instanceof RefusedDateTime ? date.reason : "is not a valid instant"}`);
    return representableInstant(date).toISOString();
  },
  // A refused value is handed on, not thrown, so that the error names the field it was sent in.
  parseValue: parseInstant,
  parseLiteral: (node) => parseInstant(node.kind === Kind.STRING ? node.value : undefined),
});

function literalToJson(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, literalToJson(field.value)]));
    default:
      throw invalidScalar("JSON literals cannot hold variables or enums");
  }
}

function parseJsonObject(value: unknown): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidScalar("JSON must be an object");
  }
  const size = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (size > MAX_METADATA_BYTES) throw invalidScalar(`JSON must be at most ${MAX_METADATA_BYTES} bytes, got ${size}`);
  return value as JsonObject;
}

builder.scalarType("JSON", {
  description: "Free-form JSON object (metadata).",
  serialize: (value) => value,
  parseValue: parseJsonObject,
  parseLiteral: (node) => parseJsonObject(literalToJson(node)),
});
