-- CreateTable
CREATE TABLE "OfferedChoice" (
    "channel" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "choices" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OfferedChoice_pkey" PRIMARY KEY ("channel","chatId")
);

-- CreateTable
CREATE TABLE "ZaloOaToken" (
    "appId" TEXT NOT NULL,
    "accessToken" TEXT NOT NULL,
    "refreshToken" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "seededFrom" TEXT,
    "refreshedAt" TIMESTAMP(3),
    "failedAt" TIMESTAMP(3),
    "lastError" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ZaloOaToken_pkey" PRIMARY KEY ("appId")
);
