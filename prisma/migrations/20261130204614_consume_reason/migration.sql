-- CreateEnum
CREATE TYPE "ConsumeReason" AS ENUM ('ENTITLED', 'SOFT_LIMIT_EXCEEDED');

-- AlterTable
ALTER TABLE "UsageRecord" ADD COLUMN     "consumeReason" "ConsumeReason";
