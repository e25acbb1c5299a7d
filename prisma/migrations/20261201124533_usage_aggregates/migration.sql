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

-- Backfill: the sums of the usage records already stored, one row per bucket (shard 0).
INSERT INTO "UsageAggregate" ("customerId", "featureId", "width", "bucketStart", "shard", "total")
SELECT u."customerId", u."featureId", w.width,
       date_trunc(lower(w.width::text), u."timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 0, SUM(u."quantity")
FROM "UsageRecord" u CROSS JOIN unnest(enum_range(NULL::"UsageBucketWidth")) AS w(width)
GROUP BY 1, 2, 3, 4;
