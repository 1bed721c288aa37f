-- AlterTable
ALTER TABLE "CollectionRound" ADD COLUMN     "keyedPerTask" BOOLEAN NOT NULL DEFAULT false;

-- Rounds already asked were asked one message per task, under keys of their own: their reminders check them
UPDATE "CollectionRound" SET "keyedPerTask" = true WHERE "askedAt" IS NOT NULL;

-- AlterTable
ALTER TABLE "StatusReport" ADD COLUMN     "groupId" UUID;

-- CreateIndex
CREATE INDEX "StatusReport_groupId_idx" ON "StatusReport"("groupId");
