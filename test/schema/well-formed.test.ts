// The one rule for strings and dates (src/schema/well-formed.ts), table by table: what is
// refused, what is kept, and the path a refusal names.
import { describe, expect, it } from "vitest";
import { findMalformedInput, malformedText, parseInstant, RefusedDateTime, representableInstant } from "../../src/schema/well-formed.ts";

describe("parseInstant", () => {
  it.each([
    ["2026-01-15T10:30:00Z", "2026-01-15T10:30:00.000Z"],
    ["2026-01-15t10:30:00z", "2026-01-15T10:30:00.000Z"],
    ["2026-01-15 10:30:00Z", "2026-01-15T10:30:00.000Z"],
    ["2026-01-15T10:30:00+02:00", "2026-01-15T08:30:00.000Z"],
    ["2026-01-15T10:30:00-09:30", "2026-01-15T20:00:00.000Z"],
    ["2026-01-15T10:30:00.5Z", "2026-01-15T10:30:00.500Z"],
    ["2026-01-15T10:30:00.123456789Z", "2026-01-15T10:30:00.123Z"],
    ["2028-02-29T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"],
    ["2026-12-31T23:59:59Z", "2026-12-31T23:59:59.000Z"],
    ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"],
    ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ])("accepts %s as %s", (value, instant) => {
    const parsed = parseInstant(value);
    expect(parsed).not.toBeInstanceOf(RefusedDateTime);
    expect(parsed.toISOString()).toBe(instant);
  });

  it.each([
    ["2026-02-30T00:00:00Z", "day"],
    ["2026-02-31T00:00:00Z", "day"],
    ["2027-02-29T00:00:00Z", "day"],
    ["2100-02-29T00:00:00Z", "day"],
    ["2026-04-31T00:00:00Z", "day"],
    ["2026-01-00T00:00:00Z", "day"],
    ["2026-00-10T00:00:00Z", "month"],
    ["2026-13-01T00:00:00Z", "month"],
    ["2026-01-15T24:00:00Z", "hour"],
    ["2026-01-15T10:60:00Z", "minute"],
    ["2026-01-15T10:00:60Z", "second"],
    ["2026-01-15T10:00:00+24:00", "offset"],
    ["2026-01-15T10:00:00+01:60", "offset"],
  ])("refuses %s: its %s does not exist", (value, part) => {
    const parsed = parseInstant(value);
    expect(parsed).toBeInstanceOf(RefusedDateTime);
    expect((parsed as RefusedDateTime).reason).toContain(`its ${part} does not exist`);
    expect(Number.isNaN(parsed.getTime())).toBe(true);
  });

  it.each([
    "2026-01-15",
    "2026-01-15T10:30:00",
    "2026-01-15T10:30Z",
    "yesterday",
    "",
    "+275760-09-13T00:00:00.000Z",
    "1969-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "2026-01-15T10:30:00.1234567890Z",
    12,
    null,
  ])("refuses %s (not an RFC 3339 instant between 1970 and 9999)", (value) => {
    expect(parseInstant(value)).toBeInstanceOf(RefusedDateTime);
  });
});

describe("representableInstant", () => {
  it("answers an instant after 9999 as the last of 9999, one before 1970 as the first of 1970, others as they are", () => {
    expect(representableInstant(new Date(Date.UTC(10_000, 0, 31))).toISOString()).toBe("9999-12-31T23:59:59.999Z");
    expect(representableInstant(new Date(Date.UTC(1969, 11, 1))).toISOString()).toBe("1970-01-01T00:00:00.000Z");
    expect(representableInstant(new Date("2026-01-15T10:30:00Z")).toISOString()).toBe("2026-01-15T10:30:00.000Z");
  });
});

describe("malformedText", () => {
  it.each([
    ["a\u0000b", "NUL"],
    ["\u0000", "NUL"],
    ["\ud800", "lone surrogate"],
    ["\udfff", "lone surrogate"],
    ["a\ud83db", "lone surrogate"],
    ["\ude80\ud83d", "lone surrogate"],
  ])("refuses %j (%s)", (value, what) => {
    expect(malformedText(value)).toContain(what);
  });

  it.each(["", "plain", "🚀", "\ud83d\ude80", "𝔸é\u202e\u200b", "a\nb\tc"])("keeps %j", (value) => {
    expect(malformedText(value)).toBeUndefined();
  });
});

describe("findMalformedInput", () => {
  it("names the path of the first refused string, through input objects, lists and JSON", () => {
    expect(findMalformedInput({ input: { metadata: { a: "\u0000" } } }, "")).toMatchObject({ field: "input.metadata.a" });
    expect(findMalformedInput({ input: { metadata: { list: [1, "ok", "\udfff"] } } }, "")).toMatchObject({
      field: "input.metadata.list.2",
    });
    expect(findMalformedInput({ ids: ["a", "b\u0000"] }, "")).toMatchObject({ field: "ids.1" });
    expect(findMalformedInput({ key: "\ud800" }, "")).toMatchObject({ field: "key" });
  });

  it("names the object holding a refused key, since the key cannot be written", () => {
    expect(findMalformedInput({ input: { metadata: { "a\u0000": 1 } } }, "")).toEqual({
      field: "input.metadata",
      message: "keys must not contain NUL (U+0000)",
    });
  });

  it("refuses a date the scalar refused, naming its field", () => {
    expect(findMalformedInput({ input: { effectiveAt: parseInstant("2026-02-30T00:00:00Z") } }, "")).toMatchObject({
      field: "input.effectiveAt",
    });
  });

  it("passes well-formed arguments, valid dates and non-string values", () => {
    const args = {
      input: { name: "🚀", at: new Date(), n: 1, ok: true, none: null, list: [{ a: "b" }], metadata: { nested: { deep: ["x"] } } },
    };
    expect(findMalformedInput(args, "")).toBeUndefined();
  });
});
