-- CreateTable
CREATE TABLE "GroupChatNotice" (
    "channel" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "notifiedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GroupChatNotice_pkey" PRIMARY KEY ("channel","chatId")
);
