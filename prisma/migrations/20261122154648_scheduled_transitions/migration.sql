-- AlterTable
ALTER TABLE "SubscriptionAddon" ADD COLUMN     "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "SubscriptionPhase" ADD COLUMN     "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "SchedulerCursor" (
    "name" TEXT NOT NULL,
    "processedUntil" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SchedulerCursor_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "CustomerSubscription_startsAt_idx" ON "CustomerSubscription"("startsAt");

-- CreateIndex
CREATE INDEX "CustomerSubscription_endsAt_idx" ON "CustomerSubscription"("endsAt");

-- CreateIndex
CREATE INDEX "CustomerSubscription_trialEndsAt_idx" ON "CustomerSubscription"("trialEndsAt");

-- CreateIndex
CREATE INDEX "CustomerSubscription_canceledAt_idx" ON "CustomerSubscription"("canceledAt");

-- CreateIndex
CREATE INDEX "Grant_effectiveAt_idx" ON "Grant"("effectiveAt");

-- CreateIndex
CREATE INDEX "Grant_expiresAt_idx" ON "Grant"("expiresAt");

-- CreateIndex
CREATE INDEX "Grant_voidedAt_idx" ON "Grant"("voidedAt");

-- CreateIndex
CREATE INDEX "SubscriptionAddon_startsAt_idx" ON "SubscriptionAddon"("startsAt");

-- CreateIndex
CREATE INDEX "SubscriptionAddon_endsAt_idx" ON "SubscriptionAddon"("endsAt");

-- CreateIndex
CREATE INDEX "SubscriptionPhase_startsAt_idx" ON "SubscriptionPhase"("startsAt");

-- CreateIndex
CREATE INDEX "SubscriptionPhase_endsAt_idx" ON "SubscriptionPhase"("endsAt");
