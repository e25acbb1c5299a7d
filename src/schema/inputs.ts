// Validators shared by the input types: each names what a field accepts in the user's terms.
import { decodeGlobalID } from "@pothos/plugin-relay";
import { z } from "zod";

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is what it is for.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Stored ids are UUIDs; anything else cannot name a stored object. */
export const isStoredId = (id: unknown): id is string => typeof id === "string" && UUID.test(id);

/** A line of text: trimmed, no control characters, within bounds. */
export const text = (max: number, min = 1) =>
  z
    .string()
    .trim()
    .min(min, min === 1 ? "must not be empty" : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), "must not contain control characters");

/** Longer free text (descriptions): newlines and tabs allowed. */
export const longText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is what it is for.
    .refine((value) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value), "must not contain control characters");

/** Feature and plan keys: letters, digits and _ - . : , starting with a letter or digit. */
export const catalogKey = z
  .string()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "may hold only letters, digits and _ - . : and must start with a letter or digit");

export const externalId = text(255);
export const email = z.string().max(320, "must be at most 320 characters").pipe(z.email("must be an email address"));

/** A quantity of usage (recorded, consumed or checked): finite, |q| ≤ 1e12. */
export const usageQuantity = z
  .number()
  .refine(Number.isFinite, "must be a finite number")
  .refine((value) => Math.abs(value) <= 1e12, "must be between -1e12 and 1e12");
export const quantity = z.number().int().min(1, "must be at least 1").max(1_000_000, "must be at most 1000000");
export const priority = z.number().int().min(-1_000_000).max(1_000_000);

export type NodeTypeName =
  | "Feature"
  | "Plan"
  | "PlanEntitlement"
  | "Customer"
  | "CustomerSubscription"
  | "SubscriptionAddon"
  | "SubscriptionOverride"
  | "Grant"
  | "ApiKey"
  | "WebhookEndpoint"
  | "WebhookDelivery";

/** A global ID of the given type, decoded to the stored id. */
export const globalId = (type: NodeTypeName) =>
  z.string().transform((value, context) => {
    let decoded: { typename: string; id: string };
    try {
      decoded = decodeGlobalID(value);
    } catch {
      context.addIssue({ code: "custom", message: `is not a valid ${type} ID` });
      return z.NEVER;
    }
    if (decoded.typename !== type) {
      context.addIssue({ code: "custom", message: `must be a ${type} ID, got a ${decoded.typename || "malformed"} ID` });
      return z.NEVER;
    }
    if (!isStoredId(decoded.id)) {
      context.addIssue({ code: "custom", message: `is not a valid ${type} ID` });
      return z.NEVER;
    }
    return decoded.id;
  });
