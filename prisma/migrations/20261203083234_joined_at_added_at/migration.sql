-- AlterTable
ALTER TABLE "CampaignUnit" ADD COLUMN     "joinedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "addedAt" TIMESTAMP(3);
