-- Limits become doubles (fractions, and integers exact up to 2^53). Every 32-bit integer
-- has an exact double, so the stored limits convert in place without loss.

-- AlterTable
ALTER TABLE "Grant" ALTER COLUMN "usageLimit" SET DATA TYPE DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "PlanEntitlement" ALTER COLUMN "usageLimit" SET DATA TYPE DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "SubscriptionOverride" ALTER COLUMN "usageLimit" SET DATA TYPE DOUBLE PRECISION;
