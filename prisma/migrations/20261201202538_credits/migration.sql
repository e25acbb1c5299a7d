-- CreateEnum
CREATE TYPE "GrantKind" AS ENUM ('ALLOWANCE', 'CREDIT');

-- AlterTable
ALTER TABLE "Grant" ADD COLUMN     "amount" DOUBLE PRECISION,
ADD COLUMN     "drawn" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "kind" "GrantKind" NOT NULL DEFAULT 'ALLOWANCE';

-- CreateTable
CREATE TABLE "CreditDraw" (
    "id" UUID NOT NULL,
    "grantId" UUID NOT NULL,
    "usageRecordId" UUID NOT NULL,
    "amount" DOUBLE PRECISION NOT NULL,
    "timestamp" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CreditDraw_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CreditDraw_grantId_timestamp_idx" ON "CreditDraw"("grantId", "timestamp");

-- CreateIndex
CREATE INDEX "CreditDraw_usageRecordId_idx" ON "CreditDraw"("usageRecordId");

-- AddForeignKey
ALTER TABLE "CreditDraw" ADD CONSTRAINT "CreditDraw_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "Grant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
