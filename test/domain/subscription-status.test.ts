import { describe, expect, it } from "vitest";
import { subscriptionEntitles, subscriptionStatus, type SubscriptionTimes } from "../../src/domain/subscription-status.ts";

const t = (iso: string) => new Date(iso);
const base: SubscriptionTimes = { startsAt: t("2026-01-01T00:00:00Z"), endsAt: null, trialEndsAt: null, canceledAt: null };

describe("subscriptionStatus (docs/rules.md §2, rules checked in order)", () => {
  const cases: [string, Partial<SubscriptionTimes>, string, string][] = [
    ["before the start", {}, "2025-12-31T23:59:59Z", "SCHEDULED"],
    ["at the start (half-open)", {}, "2026-01-01T00:00:00Z", "ACTIVE"],
    ["open-ended, running", {}, "2026-06-01T00:00:00Z", "ACTIVE"],
    ["in trial", { trialEndsAt: t("2026-01-15T00:00:00Z") }, "2026-01-14T23:59:59Z", "TRIALING"],
    ["at trial end", { trialEndsAt: t("2026-01-15T00:00:00Z") }, "2026-01-15T00:00:00Z", "ACTIVE"],
    ["cancel scheduled", { canceledAt: t("2026-03-01T00:00:00Z") }, "2026-02-01T00:00:00Z", "NON_RENEWING"],
    ["at cancel instant", { canceledAt: t("2026-03-01T00:00:00Z") }, "2026-03-01T00:00:00Z", "CANCELED"],
    ["with an end, running", { endsAt: t("2026-12-31T00:00:00Z") }, "2026-06-01T00:00:00Z", "NON_RENEWING"],
    ["at the end", { endsAt: t("2026-12-31T00:00:00Z") }, "2026-12-31T00:00:00Z", "EXPIRED"],
    [
      "canceled wins over expired",
      { endsAt: t("2026-02-01T00:00:00Z"), canceledAt: t("2026-01-20T00:00:00Z") },
      "2026-03-01T00:00:00Z",
      "CANCELED",
    ],
    ["scheduled wins over canceled", { canceledAt: t("2025-12-01T00:00:00Z") }, "2025-12-15T00:00:00Z", "SCHEDULED"],
    [
      "trialing with a scheduled cancel",
      { trialEndsAt: t("2026-02-01T00:00:00Z"), canceledAt: t("2026-03-01T00:00:00Z") },
      "2026-01-10T00:00:00Z",
      "TRIALING",
    ],
    [
      "expired wins over trialing",
      { trialEndsAt: t("2026-02-01T00:00:00Z"), endsAt: t("2026-01-10T00:00:00Z") },
      "2026-01-20T00:00:00Z",
      "EXPIRED",
    ],
  ];
  it.each(cases)("%s", (_name, times, at, expected) => {
    expect(subscriptionStatus({ ...base, ...times }, t(at))).toBe(expected);
  });

  it("entitles only when TRIALING, ACTIVE or NON_RENEWING", () => {
    const sub = { ...base, trialEndsAt: t("2026-01-10T00:00:00Z"), canceledAt: t("2026-02-01T00:00:00Z") };
    expect(subscriptionEntitles(sub, t("2025-12-01T00:00:00Z"))).toBe(false); // SCHEDULED
    expect(subscriptionEntitles(sub, t("2026-01-05T00:00:00Z"))).toBe(true); // TRIALING
    expect(subscriptionEntitles(sub, t("2026-01-20T00:00:00Z"))).toBe(true); // NON_RENEWING
    expect(subscriptionEntitles(sub, t("2026-02-01T00:00:00Z"))).toBe(false); // CANCELED
    expect(subscriptionEntitles({ ...base, endsAt: t("2026-01-02T00:00:00Z") }, t("2026-01-02T00:00:00Z"))).toBe(false);
  });
});
