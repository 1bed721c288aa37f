-- CreateTable
CREATE TABLE "CurrentStatus" (
    "taskId" UUID NOT NULL,
    "unitId" UUID NOT NULL,
    "reportId" UUID NOT NULL,
    "status" "ReportStatus" NOT NULL,
    "percent" INTEGER,
    "reportedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CurrentStatus_pkey" PRIMARY KEY ("taskId","unitId")
);

-- CreateIndex
CREATE UNIQUE INDEX "CurrentStatus_reportId_key" ON "CurrentStatus"("reportId");

-- CreateIndex
CREATE INDEX "CurrentStatus_unitId_taskId_status_reportId_idx" ON "CurrentStatus"("unitId", "taskId", "status", "reportId");

-- AddForeignKey
ALTER TABLE "CurrentStatus" ADD CONSTRAINT "CurrentStatus_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CurrentStatus" ADD CONSTRAINT "CurrentStatus_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CurrentStatus" ADD CONSTRAINT "CurrentStatus_reportId_fkey" FOREIGN KEY ("reportId") REFERENCES "StatusReport"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: the latest report not undone of every (task, unit), in the order the services use.
INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", "status", "percent", "reportedAt")
SELECT DISTINCT ON (r."taskId", r."unitId") r."taskId", r."unitId", r.id, r.status, r.percent, r."createdAt"
FROM "StatusReport" r
WHERE r."undoneAt" IS NULL
ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC;
