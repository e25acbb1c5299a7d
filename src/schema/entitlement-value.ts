// The value fields shared by plan entitlements, subscription overrides and grants: the
// same input fields, the same output fields, and the same checks (src/domain/entitlement-value.ts).
import type { InputFieldBuilder, SchemaTypes } from "@pothos/core";
import { builder } from "./builder.ts";
import { ResetPeriodEnum } from "./enums.ts";
import { featureLevels } from "./feature.ts";
import { text, usageLimit } from "./inputs.ts";
import { validationFailed } from "../errors.ts";
import {
  checkEntitlementValue,
  MAX_STATIC_VALUE_LENGTH,
  type EntitlementValue,
  type EntitlementValueInput,
} from "../domain/entitlement-value.ts";
import type { Feature } from "../generated/prisma/client.ts";
import type { Context } from "../context.ts";

export function entitlementValueInputFields<Types extends SchemaTypes>(t: InputFieldBuilder<Types, "InputObject">) {
  return {
    isEnabled: t.boolean(),
    usageLimit: t.int().validate(usageLimit.nullish()),
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
  valueOf: (parent: Shape, context: Context) => EntitlementValue | Promise<EntitlementValue>,
) {
  const field = <K extends keyof EntitlementValue>(key: K) => async (parent: Shape, _args: object, context: Context) =>
    (await valueOf(parent, context))[key];
  return {
    isEnabled: t.boolean({ resolve: field("isEnabled") }),
    usageLimit: t.int({
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

/** Checks a complete value (plan entitlement, grant) for the feature, or throws VALIDATION_ERROR on `input.*`. */
export function requireCompleteValue(feature: Feature, input: EntitlementValueInput): EntitlementValue {
  const checked = checkEntitlementValue({ key: feature.key, type: feature.type, levels: featureLevels(feature) }, input);
  if (!checked.ok) {
    throw validationFailed(checked.problems.map((problem) => ({ ...problem, field: `input.${problem.field}` })));
  }
  return checked.value;
}

export const pickValueInput = (input: EntitlementValueInput): EntitlementValueInput => ({
  isEnabled: input.isEnabled,
  usageLimit: input.usageLimit,
  isUnlimited: input.isUnlimited,
  resetPeriod: input.resetPeriod,
  isSoftLimit: input.isSoftLimit,
  staticValue: input.staticValue,
});

