// The value fields shared by plan entitlements, subscription overrides and grants: the
// same input fields and the same output fields (their checks: src/services/catalog.ts).
import type { InputFieldBuilder, SchemaTypes } from "@pothos/core";
import type { builder } from "./builder.ts";
import { ResetPeriodEnum } from "./enums.ts";
import { text } from "./inputs.ts";
import { MAX_STATIC_VALUE_LENGTH, type EntitlementValue } from "../domain/entitlement-value.ts";
import type { Context } from "../context.ts";

export function entitlementValueInputFields<Types extends SchemaTypes>(t: InputFieldBuilder<Types, "InputObject">) {
  return {
    isEnabled: t.boolean(),
    // Checked with the rest of the value (checkEntitlementValue), where the feature's type is known.
    usageLimit: t.float({ description: "METERED: the allowance per unit of quantity, 0 to 1e15; fractions allowed (GB, hours)." }),
    isUnlimited: t.boolean({ description: "METERED: set instead of usageLimit to give an unlimited allowance." }),
    resetPeriod: t.field({ type: ResetPeriodEnum }),
    isSoftLimit: t.boolean(),
    staticValue: t.string().validate(text(MAX_STATIC_VALUE_LENGTH).nullish()),
  };
}

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** Output fields of an object whose value is stored on it or resolved for it (overrides). */
export function entitlementValueOutputFields<Shape>(
  t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, Shape>,
  valueFor: (parent: Shape, context: Context) => EntitlementValue | Promise<EntitlementValue>,
) {
  const field =
    <K extends keyof EntitlementValue>(key: K) =>
    async (parent: Shape, _args: object, context: Context) =>
      (await valueFor(parent, context))[key];
  return {
    isEnabled: t.boolean({ resolve: field("isEnabled") }),
    usageLimit: t.float({
      nullable: true,
      description: "METERED only: the allowance per unit of quantity; null means unlimited.",
      resolve: field("usageLimit"),
    }),
    isUnlimited: t.boolean({ resolve: field("isUnlimited") }),
    resetPeriod: t.field({ type: ResetPeriodEnum, nullable: true, resolve: field("resetPeriod") }),
    isSoftLimit: t.boolean({ resolve: field("isSoftLimit") }),
    staticValue: t.string({ nullable: true, description: "STATIC only.", resolve: field("staticValue") }),
  };
}
