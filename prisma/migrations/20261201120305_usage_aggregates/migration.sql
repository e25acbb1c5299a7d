-- CreateEnum
CREATE TYPE "UsageBucketWidth" AS ENUM ('MINUTE', 'HOUR', 'DAY', 'MONTH', 'YEAR');

-- CreateTable
CREATE TABLE "UsageAggregate" (
    "customerId" UUID NOT NULL,
    "featureId" UUID NOT NULL,
    "width" "UsageBucketWidth" NOT NULL,
    "bucketStart" TIMESTAMPTZ(3) NOT NULL,
    "shard" SMALLINT NOT NULL,
    "total" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "UsageAggregate_pkey" PRIMARY KEY ("customerId","featureId","width","bucketStart","shard")
);

-- CreateIndex
CREATE INDEX "UsageAggregate_featureId_idx" ON "UsageAggregate"("featureId");

-- AddForeignKey
ALTER TABLE "UsageAggregate" ADD CONSTRAINT "UsageAggregate_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageAggregate" ADD CONSTRAINT "UsageAggregate_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;
