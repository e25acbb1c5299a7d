// DateTime (RFC 3339 with an offset) and JSON (an object: metadata).
import { GraphQLError, Kind, type ValueNode } from "graphql";
import { builder, type JsonObject } from "./builder.ts";
import { ErrorCode } from "../errors.ts";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_METADATA_BYTES = 16_384;

const invalidScalar = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.VALIDATION_ERROR } });

function parseDateTime(value: unknown): Date {
  if (typeof value !== "string" || !RFC3339.test(value)) {
    throw invalidScalar(`DateTime must be an RFC 3339 instant with an offset, e.g. 2026-01-15T10:30:00Z`);
  }
  const date = new Date(value.replace(" ", "T"));
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1970 || year > 9999) {
    throw invalidScalar(`DateTime "${value}" is not a real instant between 1970 and 9999`);
  }
  return date;
}

builder.scalarType("DateTime", {
  description: "An ISO-8601 instant with offset, e.g. 2026-01-15T10:30:00Z.",
  serialize: (value) => (value instanceof Date ? value.toISOString() : parseDateTime(value).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (node) => {
    if (node.kind !== Kind.STRING) throw invalidScalar("DateTime must be a string");
    return parseDateTime(node.value);
  },
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
