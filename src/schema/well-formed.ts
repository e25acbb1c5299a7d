// The one rule every string and date the API takes goes through, wherever it comes in: text
// fields, keys of lookups, idempotency keys, level names, JSON metadata (keys and values, at
// any depth). PostgreSQL cannot store a NUL, and a lone UTF-16 surrogate has no UTF-8 form
// (it would be stored as U+FFFD or refused by jsonb), so both are refused, naming the field.
// Dates are checked here too: the DateTime scalar cannot name the field it is parsed for, so
// it hands an impossible date on as a RefusedDateTime and the arguments' walk refuses it.
import SchemaBuilder, { BasePlugin, type SchemaTypes } from "@pothos/core";
import type { FieldProblem } from "../domain/entitlement-value.ts";
import { validationFailed } from "../errors.ts";

// In a Unicode regex a valid pair is one code point, so only a lone surrogate is of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `value` cannot be stored as text, or undefined when it can. */
export function malformedText(value: string): string | undefined {
  if (value.includes("\u0000")) return "must not contain NUL (U+0000)";
  if (LONE_SURROGATE.test(value)) return "must not contain a lone surrogate (U+D800–U+DFFF outside a pair)";
  return undefined;
}

/** A DateTime the scalar could not accept; an Invalid Date, so it can never pass for an instant. */
export class RefusedDateTime extends Date {
  constructor(readonly reason: string) {
    super(Number.NaN);
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" &&
  value !== null &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** The first string or date inside `value` (arguments, input objects, lists, JSON) that is refused, with its path. */
export function findMalformedInput(value: unknown, path: string): FieldProblem | undefined {
  if (typeof value === "string") {
    const message = malformedText(value);
    return message ? { field: path, message } : undefined;
  }
  if (value instanceof RefusedDateTime) return { field: path, message: value.reason };
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = findMalformedInput(item, `${path}.${index}`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = malformedText(key);
    // The key itself cannot be part of the path: it is what cannot be written.
    if (keyProblem) return { field: path, message: `keys ${keyProblem}` };
    const problem = findMalformedInput(item, path ? `${path}.${key}` : key);
    if (problem) return problem;
  }
  return undefined;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const FIRST_INSTANT = Date.UTC(1970, 0, 1);
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * An RFC 3339 instant with an offset, between 1970 and 9999 (UTC), or why not. Every part is
 * checked against the calendar: 2026-02-30 or T24:00:00 are refused, never rolled forward.
 */
export function parseInstant(value: unknown): Date | RefusedDateTime {
  const example = "an RFC 3339 instant with an offset, e.g. 2026-01-15T10:30:00Z";
  if (typeof value !== "string") return new RefusedDateTime(`must be ${example}`);
  const parts = RFC3339.exec(value);
  if (!parts) return new RefusedDateTime(`must be ${example}`);
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [fraction = "", sign, offsetHours = "00", offsetMinutes = "00"] = parts.slice(7);
  const impossible =
    month < 1 || month > 12
      ? "month"
      : day < 1 || day > daysIn(year, month)
        ? "day"
        : hour > 23
          ? "hour"
          : minute > 59
            ? "minute"
            : second > 59
              ? "second"
              : Number(offsetHours) > 23 || Number(offsetMinutes) > 59
                ? "offset"
                : undefined;
  if (impossible) return new RefusedDateTime(`"${value}" is not a date of the calendar (its ${impossible} does not exist)`);
  const offset = (sign === "-" ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Math.floor(Number(`0${fraction}`) * 1000));
  const instant = date.getTime() - offset;
  if (instant < FIRST_INSTANT || instant > LAST_INSTANT) return new RefusedDateTime(`"${value}" is not an instant between 1970 and 9999`);
  return new Date(instant);
}

/**
 * An instant as the API answers it: one it would accept back. Later than 9999 (a period
 * computed from a date near the end of that range) is answered as the last instant of 9999,
 * earlier than 1970 as its first (docs/rules.md §5).
 */
export const representableInstant = (date: Date): Date => new Date(Math.min(LAST_INSTANT, Math.max(FIRST_INSTANT, date.getTime())));

/** Every field's arguments go through findMalformedInput before the field's own validators run. */
class WellFormedInputPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: Parameters<BasePlugin<Types>["onOutputFieldConfig"]>[0]) {
    if (Object.keys(fieldConfig.args).length === 0) return fieldConfig;
    const refuseMalformed = (args: Record<string, unknown>) => {
      const problem = findMalformedInput(args, "");
      if (problem) throw validationFailed([problem]);
      return args;
    };
    return { ...fieldConfig, argMappers: [refuseMalformed, ...fieldConfig.argMappers] };
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      wellFormedInput: WellFormedInputPlugin<Types>;
    }
  }
}

export const wellFormedInputPlugin = "wellFormedInput";
SchemaBuilder.registerPlugin(wellFormedInputPlugin, WellFormedInputPlugin);
