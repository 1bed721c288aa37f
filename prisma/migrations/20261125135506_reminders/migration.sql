-- AlterTable
ALTER TABLE "StatusReport" ADD COLUMN     "roundId" UUID;

-- CreateTable
CREATE TABLE "ReminderSent" (
    "taskId" UUID NOT NULL,
    "unitId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "slot" TEXT NOT NULL,
    "recipients" INTEGER NOT NULL DEFAULT 0,
    "sentAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReminderSent_pkey" PRIMARY KEY ("taskId","unitId","kind","slot")
);

-- CreateTable
CREATE TABLE "CollectionRound" (
    "id" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "periodKey" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "startsOn" DATE NOT NULL,
    "endsOn" DATE NOT NULL,
    "dueOn" DATE NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL,
    "askedAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "CollectionRound_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JobRun" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "slot" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "trigger" TEXT NOT NULL,
    "dryRun" BOOLEAN NOT NULL DEFAULT false,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "ok" BOOLEAN,
    "result" JSONB,
    "error" TEXT,

    CONSTRAINT "JobRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CollectionRound_closedAt_idx" ON "CollectionRound"("closedAt");

-- CreateIndex
CREATE UNIQUE INDEX "CollectionRound_campaignId_periodKey_key" ON "CollectionRound"("campaignId", "periodKey");

-- CreateIndex
CREATE INDEX "JobRun_name_startedAt_idx" ON "JobRun"("name", "startedAt");

-- CreateIndex
CREATE INDEX "StatusReport_roundId_idx" ON "StatusReport"("roundId");

-- AddForeignKey
ALTER TABLE "StatusReport" ADD CONSTRAINT "StatusReport_roundId_fkey" FOREIGN KEY ("roundId") REFERENCES "CollectionRound"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReminderSent" ADD CONSTRAINT "ReminderSent_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CollectionRound" ADD CONSTRAINT "CollectionRound_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;
