-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "operation" TEXT NOT NULL,
    "entityId" TEXT,
    "actorKeyPrefix" TEXT,
    "actorKeyName" TEXT,
    "input" JSONB NOT NULL,
    "requestId" TEXT NOT NULL,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AuditEntry_projectId_id_idx" ON "AuditEntry"("projectId", "id");

-- CreateIndex
CREATE INDEX "AuditEntry_projectId_entityId_id_idx" ON "AuditEntry"("projectId", "entityId", "id");

-- CreateIndex
CREATE INDEX "AuditEntry_projectId_operation_id_idx" ON "AuditEntry"("projectId", "operation", "id");

-- AddForeignKey
ALTER TABLE "AuditEntry" ADD CONSTRAINT "AuditEntry_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
