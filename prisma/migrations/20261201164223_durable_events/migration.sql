-- CreateEnum
CREATE TYPE "EventType" AS ENUM ('ENTITLEMENTS_CHANGED', 'USAGE_THRESHOLD_REACHED');

-- CreateEnum
CREATE TYPE "WebhookEndpointStatus" AS ENUM ('ENABLED', 'DISABLED');

-- CreateEnum
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- AlterTable
ALTER TABLE "Feature" ADD COLUMN     "alertThresholds" DOUBLE PRECISION[] DEFAULT ARRAY[]::DOUBLE PRECISION[];

-- CreateTable
CREATE TABLE "LoggedEvent" (
    "id" BIGSERIAL NOT NULL,
    "projectId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "type" "EventType" NOT NULL,
    "featureKeys" TEXT[],
    "data" JSONB NOT NULL,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL,
    "loggedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LoggedEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EventJob" (
    "id" UUID NOT NULL,
    "projectId" UUID,
    "kind" TEXT NOT NULL,
    "input" JSONB NOT NULL,
    "cursor" TEXT,
    "leasedBy" TEXT,
    "leasedUntil" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EventJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReachedThreshold" (
    "customerId" UUID NOT NULL,
    "featureId" UUID NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "periodStart" TIMESTAMPTZ(3) NOT NULL,
    "reachedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReachedThreshold_pkey" PRIMARY KEY ("customerId","featureId","threshold","periodStart")
);

-- CreateTable
CREATE TABLE "WebhookEndpoint" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "eventTypes" "EventType"[],
    "status" "WebhookEndpointStatus" NOT NULL DEFAULT 'ENABLED',
    "secret" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "WebhookEndpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "eventId" BIGINT NOT NULL,
    "status" "WebhookDeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "lastAttemptAt" TIMESTAMPTZ(3),
    "lastResponseStatus" INTEGER,
    "lastError" TEXT,
    "leasedBy" TEXT,
    "leasedUntil" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "LoggedEvent_projectId_id_idx" ON "LoggedEvent"("projectId", "id");

-- CreateIndex
CREATE INDEX "LoggedEvent_projectId_customerId_id_idx" ON "LoggedEvent"("projectId", "customerId", "id");

-- CreateIndex
CREATE INDEX "LoggedEvent_loggedAt_idx" ON "LoggedEvent"("loggedAt");

-- CreateIndex
CREATE INDEX "EventJob_leasedUntil_idx" ON "EventJob"("leasedUntil");

-- CreateIndex
CREATE INDEX "WebhookEndpoint_projectId_idx" ON "WebhookEndpoint"("projectId");

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_nextAttemptAt_idx" ON "WebhookDelivery"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_eventId_idx" ON "WebhookDelivery"("eventId");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_endpointId_eventId_key" ON "WebhookDelivery"("endpointId", "eventId");

-- AddForeignKey
ALTER TABLE "LoggedEvent" ADD CONSTRAINT "LoggedEvent_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookEndpoint" ADD CONSTRAINT "WebhookEndpoint_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "LoggedEvent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
