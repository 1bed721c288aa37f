-- AlterTable
ALTER TABLE "Official" ADD COLUMN     "preferredChannel" TEXT;
