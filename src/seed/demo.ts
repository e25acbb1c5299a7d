// A small, realistic demo catalog and customers, loaded on the embedded database's first
// start so that GraphiQL has something to show at once.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";

const DAY = 24 * 60 * 60 * 1000;

/** Loads the demo into `projectId` unless the project already has features. Returns true when loaded. */
export async function seedDemo(prisma: PrismaClient, projectId: string, now = new Date()): Promise<boolean> {
  if ((await prisma.feature.count({ where: { projectId } })) > 0) return false;
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
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

    const plan = (key: string, name: string, kind: "PLAN" | "ADDON") =>
      tx.plan.create({ data: { projectId, key, name, kind } });
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

    const subscribe = (customerId: string, planId: string, quantity: number, extra: { trialEndsAt?: Date } = {}) =>
      tx.customerSubscription.create({
        data: {
          projectId,
          customerId,
          startsAt: monthStart,
          billingAnchor: monthStart,
          ...extra,
          phases: { create: { planId, quantity, startsAt: monthStart } },
        },
      });
    const acmeSubscription = await subscribe(acme.id, pro.id, 2);
    await tx.subscriptionAddon.create({
      data: { subscriptionId: acmeSubscription.id, addonId: extraCalls.id, quantity: 1, startsAt: monthStart },
    });
    await subscribe(globex.id, starter.id, 1);
    await subscribe(initech.id, starter.id, 1, { trialEndsAt: new Date(now.getTime() + 14 * DAY) });

    await tx.grant.create({
      data: {
        projectId,
        customerId: globex.id,
        featureId: sso.id,
        effectiveAt: now,
        expiresAt: new Date(now.getTime() + 30 * DAY),
        reason: "Trial of single sign-on",
      },
    });
  });
  return true;
}
