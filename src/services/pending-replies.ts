import { v7 as uuidv7 } from 'uuid';
import type { RawQueries } from '../db/raw-transactions.ts';
import type { Status } from '../domain/status.ts';

/**
 * What a chat was asked and has not answered yet, kept as PendingReply rows of its account: a status report
 * waiting for "which task?", or an exemplar report being written step by step. Raw SQL, so that the dialogue's
 * hot path (a status reply) can run on a plain `pg` transaction.
 */

/** A status report whose task is still to be chosen. */
export interface PendingReport {
  status: Status;
  percent: number | null;
  note: string | null;
  sourceText: string | null;
}

/** Keeps a report until the chat says which of `taskIds` it is about; returns the question's id. */
export async function savePendingReport(
  db: RawQueries,
  input: { accountId: string; report: PendingReport; taskIds: string[]; expiresAt: Date },
): Promise<string> {
  const id = uuidv7();
  await db.$executeRaw`
    INSERT INTO "PendingReply" (id, "channelAccountId", payload, "expiresAt")
    VALUES (${id}::uuid, ${input.accountId}::uuid,
      ${JSON.stringify({ ...input.report, taskIds: input.taskIds })}::jsonb, ${input.expiresAt})`;
  return id;
}

/**
 * The answer to "which task?": the report and the task chosen (the `index`th offered), taken off the chat's
 * questions at once. Null, with nothing taken, when the question is not this chat's, has expired or has no
 * such choice.
 */
export async function takePendingReport(
  db: RawQueries,
  input: { id: string; accountId: string; index: number; now: Date },
): Promise<{ taskId: string; report: PendingReport } | null> {
  const [row] = await db.$queryRaw<{ payload: PendingReport & { taskIds: string[] } }[]>`
    DELETE FROM "PendingReply"
    WHERE id = ${input.id}::uuid AND "channelAccountId" = ${input.accountId}::uuid
      AND "expiresAt" >= ${input.now} AND payload->'taskIds'->>${input.index}::int IS NOT NULL
    RETURNING payload`;
  const taskId = row?.payload.taskIds[input.index];
  if (!row || !taskId) return null;
  const { status, percent, note, sourceText } = row.payload;
  return { taskId, report: { status, percent, note, sourceText } };
}

/**
 * The answer "all of them" to "which task?": the report and every task the question offered, taken off the
 * chat's questions at once. Null, with nothing taken, when the question is not this chat's or has expired.
 */
export async function takePendingReportForAll(
  db: RawQueries,
  input: { id: string; accountId: string; now: Date },
): Promise<{ taskIds: string[]; report: PendingReport } | null> {
  const [row] = await db.$queryRaw<{ payload: PendingReport & { taskIds: string[] } }[]>`
    DELETE FROM "PendingReply"
    WHERE id = ${input.id}::uuid AND "channelAccountId" = ${input.accountId}::uuid
      AND "expiresAt" >= ${input.now} AND jsonb_typeof(payload->'taskIds') = 'array'
    RETURNING payload`;
  if (!row) return null;
  const { status, percent, note, sourceText, taskIds } = row.payload;
  return { taskIds, report: { status, percent, note, sourceText } };
}

/** A chat's exemplar report in progress (its draft as stored), while it has not expired. */
export interface StoredExemplarDraft {
  id: string;
  payload: unknown;
}

export async function exemplarDraft(
  db: RawQueries,
  input: { accountId: string; now: Date },
): Promise<StoredExemplarDraft | null> {
  const [row] = await db.$queryRaw<StoredExemplarDraft[]>`
    SELECT id, payload FROM "PendingReply"
    WHERE "channelAccountId" = ${input.accountId}::uuid AND "expiresAt" > ${input.now}
      AND payload->>'kind' = 'exemplar'
    ORDER BY "createdAt" DESC LIMIT 1`;
  return row ?? null;
}

/** Stores a draft (`kind: 'exemplar'` in its payload), new or updated; returns its id. */
export async function saveExemplarDraft(
  db: RawQueries,
  input: { id: string | null; accountId: string; payload: { kind: 'exemplar' }; expiresAt: Date },
): Promise<string> {
  const payload = JSON.stringify(input.payload);
  if (input.id) {
    await db.$executeRaw`
      UPDATE "PendingReply" SET payload = ${payload}::jsonb, "expiresAt" = ${input.expiresAt}
      WHERE id = ${input.id}::uuid`;
    return input.id;
  }
  const id = uuidv7();
  await db.$executeRaw`
    INSERT INTO "PendingReply" (id, "channelAccountId", payload, "expiresAt")
    VALUES (${id}::uuid, ${input.accountId}::uuid, ${payload}::jsonb, ${input.expiresAt})`;
  return id;
}

/** Drops the chat's unfinished exemplar reports; true when there was one. */
export async function dropExemplarDrafts(
  db: RawQueries,
  input: { accountId: string; now: Date },
): Promise<boolean> {
  const dropped = await db.$executeRaw`
    DELETE FROM "PendingReply"
    WHERE "channelAccountId" = ${input.accountId}::uuid AND "expiresAt" > ${input.now}
      AND payload->>'kind' = 'exemplar'`;
  return dropped > 0;
}

/** Drops one pending reply (a draft once its exemplar is recorded). */
export async function dropPendingReply(db: RawQueries, id: string): Promise<void> {
  await db.$executeRaw`DELETE FROM "PendingReply" WHERE id = ${id}::uuid`;
}
