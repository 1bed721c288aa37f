-- CreateEnum
CREATE TYPE "UnitEventKind" AS ENUM ('created', 'renamed', 'moved', 'merged', 'dissolved');

-- DropIndex
DROP INDEX "CurrentStatus_reportId_key";

-- AlterTable
ALTER TABLE "Unit" ADD COLUMN     "retiredAt" TIMESTAMP(3),
ADD COLUMN     "successorId" UUID;

-- CreateTable
CREATE TABLE "UnitEvent" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "unitId" UUID NOT NULL,
    "kind" "UnitEventKind" NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "effectiveOn" DATE,
    "actorKind" "AuditActorKind" NOT NULL,
    "actorId" UUID,
    "actorLabel" TEXT,
    "fromValue" TEXT,
    "toValue" TEXT,
    "relatedUnitId" UUID,
    "campaignIds" UUID[] DEFAULT ARRAY[]::UUID[],

    CONSTRAINT "UnitEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UnitEvent_unitId_seq_idx" ON "UnitEvent"("unitId", "seq");

-- CreateIndex
CREATE INDEX "UnitEvent_relatedUnitId_seq_idx" ON "UnitEvent"("relatedUnitId", "seq");

-- CreateIndex
CREATE INDEX "UnitEvent_campaignIds_idx" ON "UnitEvent" USING GIN ("campaignIds");

-- CreateIndex
CREATE INDEX "CurrentStatus_reportId_idx" ON "CurrentStatus"("reportId");

-- CreateIndex
CREATE INDEX "Unit_successorId_idx" ON "Unit"("successorId");

-- AddForeignKey
ALTER TABLE "Unit" ADD CONSTRAINT "Unit_successorId_fkey" FOREIGN KEY ("successorId") REFERENCES "Unit"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UnitEvent" ADD CONSTRAINT "UnitEvent_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Append-only, like the audit trail: the history of the tree is not rewritten, by the service or with SQL.
-- Bodies are escape strings with their semicolons written \073 (the migration runner splits at each one).
CREATE FUNCTION unit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION ''UnitEvent is append-only: % refused'', TG_OP USING ERRCODE = ''insufficient_privilege''\073 END';

CREATE TRIGGER "UnitEvent_append_only" BEFORE UPDATE OR DELETE ON "UnitEvent"
  FOR EACH ROW EXECUTE FUNCTION unit_event_append_only();
CREATE TRIGGER "UnitEvent_no_truncate" BEFORE TRUNCATE ON "UnitEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION unit_event_append_only();

-- A unit that has left the tree keeps its last statuses as they were: a report that raced its merge (it read
-- the unit before the merge committed and waited for its progress row) fails here and is retried, as its
-- chat update is, for the unit the official now belongs to. Serialization failure is what it is.
CREATE FUNCTION current_status_of_live_unit() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF EXISTS (SELECT 1 FROM "Unit" WHERE id = NEW."unitId" AND "retiredAt" IS NOT NULL) THEN RAISE EXCEPTION ''unit % has left the tree: report for its successor'', NEW."unitId" USING ERRCODE = ''serialization_failure''\073 END IF\073 RETURN NEW\073 END';

CREATE TRIGGER "CurrentStatus_live_unit" BEFORE INSERT OR UPDATE ON "CurrentStatus"
  FOR EACH ROW EXECUTE FUNCTION current_status_of_live_unit();

-- Every unit that exists has been created: its history starts there (as recorded by the migration).
INSERT INTO "UnitEvent" ("id", "unitId", "kind", "at", "actorKind", "actorLabel", "toValue", "relatedUnitId")
SELECT gen_random_uuid(), u."id", 'created', u."createdAt", 'system', 'migration', u."name", u."parentId"
FROM "Unit" u
ORDER BY u."createdAt", length(u."path"), u."id";
