// Ending what keeps its history (voiding a grant, removing an add-on; docs/rules.md §1): an
// end already set may only move earlier. Moving it later would bring back what was ended.
import { isBefore } from "../domain/time.ts";
import { invalidOperation } from "../errors.ts";

/** The end to set instead of `current` (null: none yet): `at`, default now, refused unless before `current`. */
export function earlierEnd(what: string, current: Date | null, at: Date | null | undefined): Date {
  const end = at ?? new Date();
  if (current && !isBefore(end, current)) {
    throw invalidOperation(`The ${what} already ends at ${current.toISOString()}; its end may only be moved earlier`, "at");
  }
  return end;
}
