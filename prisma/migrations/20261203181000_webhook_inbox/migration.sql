-- CreateTable
CREATE TABLE "WebhookInbox" (
    "id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "updateKey" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,

    CONSTRAINT "WebhookInbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "WebhookInbox_channel_updateKey_key" ON "WebhookInbox"("channel", "updateKey");

-- CreateIndex
CREATE INDEX "WebhookInbox_chatId_idx" ON "WebhookInbox"("chatId");

-- CreateIndex
CREATE INDEX "WebhookInbox_processedAt_nextAttemptAt_idx" ON "WebhookInbox"("processedAt", "nextAttemptAt");
