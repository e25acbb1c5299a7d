// What a webhook carries: the logged event with its fields as the GraphQL types name them,
// hasAccess and usage computed as the API computes them; and when a failed one is tried again.
import { describe, expect, it } from "vitest";
import type { Entitlement } from "../../src/domain/entitlements.ts";
import { loggedEntitlement, type LoggedEvent } from "../../src/events/logged-event.ts";
import { nextAttemptAfterFailure } from "../../src/services/webhook-deliveries.ts";
import { webhookPayload } from "../../src/services/webhook-payload.ts";

const CUSTOMER_ID = "0190a000-0000-7000-8000-000000000001";
const CUSTOMER = { id: Buffer.from(`Customer:${CUSTOMER_ID}`).toString("base64"), externalId: "acme" };

const entitlement = (overrides: Partial<Entitlement> & { type: "BOOLEAN" | "METERED" | "STATIC"; key: string }): Entitlement => {
  const { type, key, ...rest } = overrides;
  return {
    feature: { id: `feature-${key}`, key, type, levels: [], alertThresholds: [] },
    isEnabled: true,
    usageLimit: null,
    isUnlimited: false,
    isSoftLimit: false,
    resetPeriod: null,
    staticValues: [],
    activeFrom: new Date("2026-01-01T00:00:00Z"),
    activeTo: null,
    sources: [],
    period: null,
    credits: [],
    ...rest,
  };
};

const changed = (entitlements: ReturnType<typeof loggedEntitlement>[]): LoggedEvent => ({
  id: "42",
  projectId: "project",
  customerId: CUSTOMER_ID,
  type: "ENTITLEMENTS_CHANGED",
  featureKeys: ["api-calls"],
  occurredAt: "2026-02-01T12:00:00.000Z",
  data: { cause: "USAGE_CHANGED", changedFeatureKeys: ["api-calls"], entitlements },
});

const monthly = { start: new Date("2026-02-01T00:00:00Z"), end: new Date("2026-03-01T00:00:00Z") };
const rendered = {
  featureType: "METERED",
  isEnabled: true,
  isUnlimited: false,
  isSoftLimit: false,
  resetPeriod: "MONTHLY",
  staticValues: [],
  staticValue: null,
  activeFrom: "2026-01-01T00:00:00.000Z",
  activeTo: null,
};

describe("an entitlements.changed body", () => {
  it.each([
    {
      what: "a METERED feature under its limit",
      logged: loggedEntitlement(
        entitlement({ key: "api-calls", type: "METERED", usageLimit: 100, resetPeriod: "MONTHLY", period: monthly }),
        40,
      ),
      expected: {
        ...rendered,
        featureKey: "api-calls",
        hasAccess: true,
        usageLimit: 100,
        usage: {
          used: 40,
          remaining: 60,
          creditsRemaining: 0,
          available: 60,
          credits: [],
          periodStart: "2026-02-01T00:00:00.000Z",
          periodEnd: "2026-03-01T00:00:00.000Z",
        },
      },
    },
    {
      what: "a METERED feature at its hard limit: no access",
      logged: loggedEntitlement(
        entitlement({ key: "api-calls", type: "METERED", usageLimit: 100, resetPeriod: "MONTHLY", period: monthly }),
        100,
      ),
      expected: {
        ...rendered,
        featureKey: "api-calls",
        hasAccess: false,
        usageLimit: 100,
        usage: {
          used: 100,
          remaining: 0,
          creditsRemaining: 0,
          available: 0,
          credits: [],
          periodStart: "2026-02-01T00:00:00.000Z",
          periodEnd: "2026-03-01T00:00:00.000Z",
        },
      },
    },
    {
      what: "a soft limit exceeded: access, negative remaining",
      logged: loggedEntitlement(
        entitlement({ key: "api-calls", type: "METERED", usageLimit: 100, isSoftLimit: true, resetPeriod: "MONTHLY", period: monthly }),
        130,
      ),
      expected: {
        ...rendered,
        featureKey: "api-calls",
        isSoftLimit: true,
        hasAccess: true,
        usageLimit: 100,
        usage: {
          used: 130,
          remaining: -30,
          creditsRemaining: 0,
          available: 0,
          credits: [],
          periodStart: "2026-02-01T00:00:00.000Z",
          periodEnd: "2026-03-01T00:00:00.000Z",
        },
      },
    },
    {
      what: "unlimited, all time: no remaining, no period",
      logged: loggedEntitlement(
        entitlement({ key: "api-calls", type: "METERED", isUnlimited: true, resetPeriod: "NEVER", period: { start: null, end: null } }),
        5,
      ),
      expected: {
        ...rendered,
        featureKey: "api-calls",
        isUnlimited: true,
        resetPeriod: "NEVER",
        hasAccess: true,
        usageLimit: null,
        usage: { used: 5, remaining: null, creditsRemaining: 0, available: null, credits: [], periodStart: null, periodEnd: null },
      },
    },
    {
      what: "a disabled BOOLEAN feature ending at a date: no usage",
      logged: loggedEntitlement(
        entitlement({ key: "sso", type: "BOOLEAN", isEnabled: false, activeTo: new Date("2026-06-01T00:00:00Z") }),
        0,
      ),
      expected: {
        ...rendered,
        featureKey: "sso",
        featureType: "BOOLEAN",
        isEnabled: false,
        hasAccess: false,
        usageLimit: null,
        resetPeriod: null,
        activeTo: "2026-06-01T00:00:00.000Z",
        usage: null,
      },
    },
    {
      what: "a STATIC feature: its values, the first as staticValue",
      logged: loggedEntitlement(entitlement({ key: "region", type: "STATIC", staticValues: ["eu", "us"] }), 0),
      expected: {
        ...rendered,
        featureKey: "region",
        featureType: "STATIC",
        hasAccess: true,
        usageLimit: null,
        resetPeriod: null,
        staticValues: ["eu", "us"],
        staticValue: "eu",
        usage: null,
      },
    },
  ])("$what", ({ logged, expected }) => {
    expect(webhookPayload(changed([logged]), "acme")).toEqual({
      id: "42",
      type: "entitlements.changed",
      occurredAt: "2026-02-01T12:00:00.000Z",
      data: {
        id: "42",
        customer: CUSTOMER,
        cause: "USAGE_CHANGED",
        changedFeatureKeys: ["api-calls"],
        occurredAt: "2026-02-01T12:00:00.000Z",
        entitlements: [expected],
      },
    });
  });
});

describe("a usage.threshold_reached body", () => {
  it("carries the threshold's fields as UsageThresholdEvent names them", () => {
    const event: LoggedEvent = {
      id: "43",
      projectId: "project",
      customerId: CUSTOMER_ID,
      type: "USAGE_THRESHOLD_REACHED",
      featureKeys: ["api-calls"],
      occurredAt: "2026-02-10T08:00:00.000Z",
      data: {
        featureKey: "api-calls",
        threshold: 80,
        used: 80,
        usageLimit: 100,
        periodStart: "2026-02-01T00:00:00.000Z",
        periodEnd: "2026-03-01T00:00:00.000Z",
      },
    };
    expect(webhookPayload(event, "acme")).toEqual({
      id: "43",
      type: "usage.threshold_reached",
      occurredAt: "2026-02-10T08:00:00.000Z",
      data: {
        id: "43",
        customer: CUSTOMER,
        featureKey: "api-calls",
        threshold: 80,
        used: 80,
        usageLimit: 100,
        periodStart: "2026-02-01T00:00:00.000Z",
        periodEnd: "2026-03-01T00:00:00.000Z",
        occurredAt: "2026-02-10T08:00:00.000Z",
      },
    });
  });
});

describe("nextAttemptAfterFailure", () => {
  const at = new Date("2026-01-01T00:00:00Z");
  const schedule = [5000, 300_000, 1_800_000];
  it.each([
    [1, "2026-01-01T00:00:05.000Z"],
    [2, "2026-01-01T00:05:00.000Z"],
    [3, "2026-01-01T00:30:00.000Z"],
    [4, null],
  ])("after %i failed attempts: %s", (attempts, expected) => {
    expect(nextAttemptAfterFailure(attempts, schedule, at)?.toISOString() ?? null).toBe(expected);
  });
});
