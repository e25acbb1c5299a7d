// A small, realistic demo catalog and customers, loaded on the embedded database's first
// start so that GraphiQL has something to show at once: every kind of source (plans, an
// add-on, grants, one expiring within weeks), a trial, a STATIC feature with levels, and
// usage this period — one customer near its hard limit, one over its soft limit.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { periodAt, periodStart } from "../domain/periods.ts";
import { insertUsageRecords, type NewUsageRecord } from "../db/usage-records.ts";

const DAY = 24 * 60 * 60 * 1000;

const startOfUtcDay = (t: Date) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));

/**
 * A monthly billing anchor `months` periods back from `daysIntoPeriod` days ago, so that the
 * current period began about that many days ago: usage recorded in it is what `usage.used`
 * shows, and the period does not roll over moments after the demo is loaded.
 */
const anchorBefore = (now: Date, months: number, daysIntoPeriod: number) =>
  periodStart(startOfUtcDay(new Date(now.getTime() - daysIntoPeriod * DAY)), "MONTHLY", -months);

/** `total` in `count` uneven parts, as calls arrive. */
function split(total: number, count: number): number[] {
  const weights = Array.from({ length: count }, (_, index) => 2 + ((index * 7) % 5));
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const parts = weights.map((weight) => Math.round((total * weight) / weightSum));
  parts[count - 1]! += total - parts.reduce((sum, part) => sum + part, 0);
  return parts;
}

/** Records of these quantities spaced evenly from `from` to `to`, written as recordUsage writes them. */
function usageRecords(
  ids: { projectId: string; customerId: string; featureId: string },
  quantities: number[],
  from: Date,
  to: Date,
): NewUsageRecord[] {
  const step = quantities.length > 1 ? (to.getTime() - from.getTime()) / (quantities.length - 1) : 0;
  return quantities.map((quantity, index) => ({
    ...ids,
    quantity,
    timestamp: new Date(from.getTime() + index * step),
    idempotencyKey: null,
  }));
}

/** Loads the demo into `projectId` unless the project already has features. Returns true when loaded. */
export async function seedDemo(prisma: PrismaClient, projectId: string, now = new Date()): Promise<boolean> {
  if ((await prisma.feature.count({ where: { projectId } })) > 0) return false;
  await prisma.$transaction(async (tx) => {
    const feature = (key: string, data: Omit<Prisma.FeatureUncheckedCreateInput, "projectId" | "key">) =>
      tx.feature.create({ data: { projectId, key, ...data } });
    const sso = await feature("sso", { name: "Single sign-on", type: "BOOLEAN" });
    const auditLog = await feature("audit-log", { name: "Audit log", type: "BOOLEAN" });
    const apiCalls = await feature("api-calls", {
      name: "API calls",
      type: "METERED",
      unitSingular: "call",
      unitPlural: "calls",
    });
    const seats = await feature("seats", { name: "Seats", type: "METERED", unitSingular: "seat", unitPlural: "seats" });
    const support = await feature("support-level", {
      name: "Support level",
      type: "STATIC",
      levels: [
        { level: 1, name: "Email", value: "email", isUnlimited: false },
        { level: 2, name: "Chat", value: "chat", isUnlimited: false },
        { level: 3, name: "Phone", value: "phone", isUnlimited: false },
      ],
    });

    const plan = (key: string, name: string, kind: "PLAN" | "ADDON") => tx.plan.create({ data: { projectId, key, name, kind } });
    const starter = await plan("starter", "Starter", "PLAN");
    const pro = await plan("pro", "Pro", "PLAN");
    const extraCalls = await plan("extra-api-calls", "Extra API calls", "ADDON");

    await tx.planEntitlement.createMany({
      data: [
        { planId: starter.id, featureId: apiCalls.id, usageLimit: 10_000, resetPeriod: "MONTHLY" },
        { planId: starter.id, featureId: seats.id, usageLimit: 3, resetPeriod: "NEVER" },
        { planId: starter.id, featureId: support.id, staticValue: "email" },
        { planId: pro.id, featureId: apiCalls.id, usageLimit: 100_000, resetPeriod: "MONTHLY", isSoftLimit: true },
        { planId: pro.id, featureId: seats.id, usageLimit: 5, resetPeriod: "NEVER" },
        { planId: pro.id, featureId: support.id, staticValue: "chat" },
        { planId: pro.id, featureId: sso.id },
        { planId: pro.id, featureId: auditLog.id },
        { planId: extraCalls.id, featureId: apiCalls.id, usageLimit: 50_000, resetPeriod: "MONTHLY" },
      ],
    });

    const customer = (externalId: string, name: string, email: string) =>
      tx.customer.create({ data: { projectId, externalId, name, email } });
    const acme = await customer("acme", "Acme Corp", "billing@acme.example");
    const globex = await customer("globex", "Globex", "it@globex.example");
    const initech = await customer("initech", "Initech", "ops@initech.example");

    const subscribe = (customerId: string, planId: string, quantity: number, anchor: Date, extra: { trialEndsAt?: Date } = {}) =>
      tx.customerSubscription.create({
        data: {
          projectId,
          customerId,
          startsAt: anchor,
          billingAnchor: anchor,
          ...extra,
          phases: { create: { planId, quantity, startsAt: anchor } },
        },
      });
    // Acme: Pro at quantity 2 (2 × 100,000 calls, a soft limit) plus the add-on (50,000, hard)
    // since its third month, and more used this period than all of it: over, yet allowed.
    const acmeAnchor = anchorBefore(now, 5, 12);
    const acmeSubscription = await subscribe(acme.id, pro.id, 2, acmeAnchor);
    await tx.subscriptionAddon.create({
      data: { subscriptionId: acmeSubscription.id, addonId: extraCalls.id, quantity: 1, startsAt: periodStart(acmeAnchor, "MONTHLY", 2) },
    });
    // Globex: Starter's hard 10,000 calls, 9,800 used; single sign-on granted for a few weeks.
    const globexAnchor = anchorBefore(now, 2, 20);
    await subscribe(globex.id, starter.id, 1, globexAnchor);
    // Initech: a 30-day trial of Starter, with phone support (the highest level) while it lasts.
    const initechAnchor = startOfUtcDay(new Date(now.getTime() - 16 * DAY));
    const trialEndsAt = new Date(initechAnchor.getTime() + 30 * DAY);
    await subscribe(initech.id, starter.id, 1, initechAnchor, { trialEndsAt });

    await tx.grant.createMany({
      data: [
        {
          projectId,
          customerId: globex.id,
          featureId: sso.id,
          effectiveAt: startOfUtcDay(new Date(now.getTime() - 9 * DAY)),
          expiresAt: startOfUtcDay(new Date(now.getTime() + 21 * DAY)),
          reason: "Trial of single sign-on",
        },
        {
          projectId,
          customerId: initech.id,
          featureId: support.id,
          staticValue: "phone",
          effectiveAt: initechAnchor,
          expiresAt: trialEndsAt,
          reason: "Phone support during the trial",
        },
      ],
    });

    const thisPeriod = (anchor: Date) => periodAt(anchor, "MONTHLY", now).start!;
    const ids = (customerId: string, featureId: string) => ({ projectId, customerId, featureId });
    await insertUsageRecords(tx, [
      ...usageRecords(ids(acme.id, apiCalls.id), split(262_480, 24), thisPeriod(acmeAnchor), now),
      ...usageRecords(ids(globex.id, apiCalls.id), split(9_800, 20), thisPeriod(globexAnchor), now),
      ...usageRecords(ids(initech.id, apiCalls.id), split(1_240, 8), thisPeriod(initechAnchor), now),
      // Seats never reset: one record per seat taken since the subscription began.
      ...usageRecords(ids(acme.id, seats.id), [1, 1, 1, 1, 1, 1, 1], acmeAnchor, now),
      ...usageRecords(ids(globex.id, seats.id), [1, 1], globexAnchor, now),
      ...usageRecords(ids(initech.id, seats.id), [1], initechAnchor, now),
    ]);
  });
  return true;
}
