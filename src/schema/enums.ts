// The contract's enums. Prisma's enums are the stored form of the catalog ones.
import { builder } from "./builder.ts";
import { ErrorCode } from "../errors.ts";
import { ApiKeyScope, CatalogStatus, FeatureType, PlanKind, ResetPeriod } from "../generated/prisma/enums.ts";

// Not a field's type: listed so that clients can generate the codes (extensions.code).
builder.enumType("ErrorCode", {
  description: "The values of extensions.code on every error this API returns.",
  values: Object.values(ErrorCode),
});

export const FeatureTypeEnum = builder.enumType(FeatureType, {
  name: "FeatureType",
});
export const ResetPeriodEnum = builder.enumType(ResetPeriod, { name: "ResetPeriod" });
export const GrantKindEnum = builder.enumType("GrantKind", {
  values: {
    ALLOWANCE: { description: "Adds its value to the customer's entitlement in every usage period while active." },
    CREDIT: {
      description:
        "METERED only: a one-off amount (a credit pack, a top-up, a compensation) consumed by usage beyond the per-period allowance, across periods, until it is used up or ends.",
    },
  } as const,
});
export const CatalogStatusEnum = builder.enumType(CatalogStatus, { name: "CatalogStatus" });
export const PlanKindEnum = builder.enumType(PlanKind, { name: "PlanKind" });
export const ApiKeyScopeEnum = builder.enumType(ApiKeyScope, { name: "ApiKeyScope" });

export const SubscriptionStatusEnum = builder.enumType("SubscriptionStatus", {
  description: "A subscription's status at the evaluation instant.",
  values: ["SCHEDULED", "TRIALING", "ACTIVE", "NON_RENEWING", "CANCELED", "EXPIRED"] as const,
});

export const EventTypeEnum = builder.enumType("EventType", {
  values: {
    ENTITLEMENTS_CHANGED: { description: "What a customer may use changed (an EntitlementsChangedEvent)." },
    USAGE_THRESHOLD_REACHED: { description: "A customer's usage reached one of a feature's alertThresholds (a UsageThresholdEvent)." },
  } as const,
});
