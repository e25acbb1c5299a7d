// Each SQL twin of a domain rule (src/db/rules-in-sql.ts) selects in the database exactly
// what its pure function decides in memory, on rows whose instants fall on a small grid so
// that every boundary (t equal to a start or an end) is met.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantInForceWhere, notEndedByWhere, subscriptionStatusWhere } from "../../src/db/rules-in-sql.ts";
import { grantInForce } from "../../src/domain/entitlements.ts";
import { subscriptionStatus, type SubscriptionStatus } from "../../src/domain/subscription-status.ts";
import { notEndedBy } from "../../src/domain/time.ts";
import type { PrismaClient } from "../../src/generated/prisma/client.ts";
import { createTestApp, ok, type TestApp } from "../helpers/app.ts";

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 0, 1);
/** Instants on a grid of 8 hours: equal instants are common, as boundaries are in life. */
const instant = fc.integer({ min: 0, max: 7 }).map((hour) => new Date(BASE + hour * HOUR));
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });
const GRID = Array.from({ length: 9 }, (_unused, hour) => new Date(BASE + hour * HOUR - HOUR / 2)).flatMap((half) => [
  half,
  new Date(half.getTime() + HOUR / 2),
]);
const STATUSES: SubscriptionStatus[] = ["SCHEDULED", "TRIALING", "ACTIVE", "NON_RENEWING", "CANCELED", "EXPIRED"];
const RUNS = 12;

let t: TestApp;
let prisma: PrismaClient;
let customerId: string;
let featureId: string;
let planId: string;

beforeAll(async () => {
  t = await createTestApp();
  prisma = t.database.prisma;
  const data = ok(
    await t.gql(`mutation {
      customer: createCustomer(input: { externalId: "twins" }) { id }
      feature: createFeature(input: { key: "twins", name: "Twins", type: BOOLEAN }) { id }
      plan: createPlan(input: { key: "twins", name: "Twins" }) { id }
    }`),
  );
  const stored = (globalId: string) => Buffer.from(globalId, "base64").toString().split(":").slice(1).join(":");
  [customerId, featureId, planId] = [stored(data.customer.id), stored(data.feature.id), stored(data.plan.id)];
});
afterAll(() => t.close());

/** Ids of `rows` the pure rule accepts at `at`, and ids the database selects with its twin. */
const sorted = (ids: string[]) => [...ids].sort();

describe("SQL twins of domain rules", () => {
  it("subscriptionStatusWhere selects the subscriptions whose subscriptionStatus is one of the given", async () => {
    const times = fc.record({ startsAt: instant, endsAt: maybe(instant), trialEndsAt: maybe(instant), canceledAt: maybe(instant) });
    await fc.assert(
      fc.asyncProperty(fc.array(times, { minLength: 1, maxLength: 8 }), fc.subarray(STATUSES, { minLength: 1 }), async (rows, statuses) => {
        const created = await Promise.all(
          rows.map((row) =>
            prisma.customerSubscription.create({ data: { projectId: t.projectId, customerId, billingAnchor: row.startsAt, ...row } }),
          ),
        );
        const ids = created.map((row) => row.id);
        try {
          for (const at of GRID) {
            const selected = await prisma.customerSubscription.findMany({
              where: { id: { in: ids }, ...subscriptionStatusWhere(statuses, at) },
              select: { id: true },
            });
            const expected = created.filter((row) => statuses.includes(subscriptionStatus(row, at))).map((row) => row.id);
            expect({ at, ids: sorted(selected.map((row) => row.id)) }).toEqual({ at, ids: sorted(expected) });
          }
        } finally {
          await prisma.customerSubscription.deleteMany({ where: { id: { in: ids } } });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("grantInForceWhere selects the grants grantInForce holds in force", async () => {
    const times = fc.record({ effectiveAt: instant, expiresAt: maybe(instant), voidedAt: maybe(instant) });
    await fc.assert(
      fc.asyncProperty(fc.array(times, { minLength: 1, maxLength: 8 }), async (rows) => {
        const created = await Promise.all(
          rows.map((row) =>
            prisma.grant.create({
              data: { projectId: t.projectId, customerId, featureId, isEnabled: true, isUnlimited: false, isSoftLimit: false, ...row },
            }),
          ),
        );
        const ids = created.map((row) => row.id);
        try {
          for (const at of GRID) {
            const selected = await prisma.grant.findMany({ where: { id: { in: ids }, ...grantInForceWhere(at) }, select: { id: true } });
            const expected = created.filter((row) => grantInForce(row, at)).map((row) => row.id);
            expect({ at, ids: sorted(selected.map((row) => row.id)) }).toEqual({ at, ids: sorted(expected) });
          }
        } finally {
          await prisma.grant.deleteMany({ where: { id: { in: ids } } });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("notEndedByWhere selects the phases and add-ons notEndedBy holds in force or still to come", async () => {
    const window = fc.record({ startsAt: instant, endsAt: maybe(instant) });
    await fc.assert(
      fc.asyncProperty(fc.array(window, { minLength: 1, maxLength: 8 }), async (windows) => {
        const subscription = await prisma.customerSubscription.create({
          data: { projectId: t.projectId, customerId, startsAt: new Date(BASE), billingAnchor: new Date(BASE) },
        });
        try {
          const phases = await Promise.all(
            windows.map((row) =>
              prisma.subscriptionPhase.create({ data: { subscriptionId: subscription.id, planId, quantity: 1, ...row } }),
            ),
          );
          const addons = await Promise.all(
            windows.map((row) =>
              prisma.subscriptionAddon.create({ data: { subscriptionId: subscription.id, addonId: planId, quantity: 1, ...row } }),
            ),
          );
          for (const at of GRID) {
            const [selectedPhases, selectedAddons] = await Promise.all([
              prisma.subscriptionPhase.findMany({
                where: { subscriptionId: subscription.id, ...notEndedByWhere(at) },
                select: { id: true },
              }),
              prisma.subscriptionAddon.findMany({
                where: { subscriptionId: subscription.id, ...notEndedByWhere(at) },
                select: { id: true },
              }),
            ]);
            const expected = (rows: { id: string; endsAt: Date | null }[]) =>
              sorted(rows.filter((row) => notEndedBy({ end: row.endsAt }, at)).map((row) => row.id));
            expect({
              at,
              phases: sorted(selectedPhases.map((row) => row.id)),
              addons: sorted(selectedAddons.map((row) => row.id)),
            }).toEqual({
              at,
              phases: expected(phases),
              addons: expected(addons),
            });
          }
        } finally {
          await prisma.customerSubscription.delete({ where: { id: subscription.id } });
        }
      }),
      { numRuns: RUNS },
    );
  });
});
