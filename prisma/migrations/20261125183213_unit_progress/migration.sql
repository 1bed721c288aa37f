-- CreateTable
CREATE TABLE "UnitProgress" (
    "campaignId" UUID NOT NULL,
    "unitId" UUID NOT NULL,
    "statuses" TEXT NOT NULL,
    "tasksDigest" TEXT NOT NULL,
    "acknowledged" BOOLEAN NOT NULL DEFAULT false,
    "registered" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "UnitProgress_pkey" PRIMARY KEY ("campaignId","unitId")
);

-- AddForeignKey
ALTER TABLE "UnitProgress" ADD CONSTRAINT "UnitProgress_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UnitProgress" ADD CONSTRAINT "UnitProgress_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Backfill: every (campaign, unit) with a current status, an acknowledgement or a registration, laid out as
-- src/services/summaries.ts does.
INSERT INTO "UnitProgress" ("campaignId", "unitId", "statuses", "tasksDigest", "acknowledged", "registered")
SELECT p."campaignId", p."unitId",
  COALESCE(string_agg(CASE c.status WHEN 'done' THEN 'D' WHEN 'in_progress' THEN 'I' WHEN 'blocked' THEN 'B'
    WHEN 'not_started' THEN 'N' ELSE '-' END, '' ORDER BY t.position, t.id), ''),
  md5(COALESCE(string_agg(t.id::text, ',' ORDER BY t.position, t.id), '')),
  EXISTS (SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = p."campaignId" AND a."unitId" = p."unitId"),
  EXISTS (SELECT 1 FROM "Registration" g WHERE g."campaignId" = p."campaignId" AND g."unitId" = p."unitId")
FROM (
  SELECT t."campaignId", c."unitId" FROM "CurrentStatus" c JOIN "Task" t ON t.id = c."taskId"
  UNION SELECT "campaignId", "unitId" FROM "Acknowledgement"
  UNION SELECT "campaignId", "unitId" FROM "Registration"
) p
LEFT JOIN "Task" t ON t."campaignId" = p."campaignId"
LEFT JOIN "CurrentStatus" c ON c."taskId" = t.id AND c."unitId" = p."unitId"
GROUP BY p."campaignId", p."unitId";
