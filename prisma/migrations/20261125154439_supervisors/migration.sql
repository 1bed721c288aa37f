-- AlterTable
ALTER TABLE "Official" ADD COLUMN     "digestTime" TEXT NOT NULL DEFAULT '08:00',
ADD COLUMN     "digestWeekday" INTEGER DEFAULT 1;

-- CreateTable
CREATE TABLE "Exemplar" (
    "id" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "unitId" UUID NOT NULL,
    "officialId" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "achievement" TEXT NOT NULL,
    "photoRef" TEXT,
    "channel" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "withdrawnAt" TIMESTAMP(3),

    CONSTRAINT "Exemplar_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WeeklyDigestSent" (
    "officialId" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "week" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "sent" BOOLEAN NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WeeklyDigestSent_pkey" PRIMARY KEY ("officialId","campaignId","week")
);

-- CreateIndex
CREATE INDEX "Exemplar_campaignId_unitId_idx" ON "Exemplar"("campaignId", "unitId");

-- CreateIndex
CREATE INDEX "WeeklyDigestSent_officialId_campaignId_at_idx" ON "WeeklyDigestSent"("officialId", "campaignId", "at");

-- AddForeignKey
ALTER TABLE "Exemplar" ADD CONSTRAINT "Exemplar_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exemplar" ADD CONSTRAINT "Exemplar_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exemplar" ADD CONSTRAINT "Exemplar_officialId_fkey" FOREIGN KEY ("officialId") REFERENCES "Official"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WeeklyDigestSent" ADD CONSTRAINT "WeeklyDigestSent_officialId_fkey" FOREIGN KEY ("officialId") REFERENCES "Official"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WeeklyDigestSent" ADD CONSTRAINT "WeeklyDigestSent_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;
