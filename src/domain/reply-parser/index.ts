import { readClauses } from './clauses.ts';
import { ParseContext } from './context.ts';
import { decidePercent, decideStatus, isBareAcknowledgement, type Status } from './decision.ts';
import { difficultyReason, readDifficulties } from './difficulties.ts';
import { readFigures } from './figures.ts';
import { readProgressCues } from './progress-cues.ts';
import { repairSpelling } from './spelling.ts';
import { readTaskReferences } from './task-references.ts';
import { INVISIBLE, safeNote } from './text.ts';

export { foldVietnamese } from './text.ts';
export type { Status } from './decision.ts';

export interface ParsedReply {
  status: Status | null;
  percent: number | null;
  note: string | null;
  taskNumber: number | null;
  /**
   * Present (true) only when the reply acknowledges and says nothing else ("👍", "ok", "đã nhận");
   * its status is then null. Absent otherwise, so a reading compares equal to one without it.
   */
  acknowledgement?: true;
}

/**
 * Reads the one line an official types back when the bot asks how far a task is ("đã xong",
 * "dang trien khai 70%", "vướng kinh phí", "nv2 chưa") and turns it into a status report.
 * Pure: no I/O, no clock.
 *
 * The stages run in order over one shared context (context.ts): spelling -> clauses -> task
 * references -> cues (difficulties, progress) -> figures -> decision; each stage's file lists the
 * decisions on ambiguous wording that it applies, and the words it reads are data in
 * vocabulary.ts. A reply about several tasks is read by parseTaskReplies (multi-task.ts).
 */
export function parseStatusReply(text: string): ParsedReply {
  // Callers outside TypeScript (webhooks) can hand us anything; a parser that throws would
  // drop the official's message, so any failure degrades to "unclear".
  try {
    return measureParse(typeof text === 'string' ? text : '').reply;
  } catch {
    return { status: null, percent: null, note: safeNote(text), taskNumber: null };
  }
}

/** The reading with what it cost: the tokens read and the looks at them (linear in the text). */
export function measureParse(text: string): { reply: ParsedReply; tokens: number; steps: number } {
  const ctx = new ParseContext(text.normalize('NFC').replace(INVISIBLE, ''));
  repairSpelling(ctx);
  readClauses(ctx);
  const { taskNumber, multiTask } = readTaskReferences(ctx);
  const difficulties = readDifficulties(ctx);
  const cues = readProgressCues(ctx);
  const figures = readFigures(ctx, cues);
  let reply: ParsedReply;
  if (multiTask) reply = { status: null, percent: null, note: ctx.fullNote, taskNumber: null };
  else {
    const status = decideStatus({ difficulties, cues, figures });
    const note =
      status === 'blocked' ? (difficultyReason(ctx, difficulties.found) ?? ctx.fullNote) : ctx.fullNote;
    reply = { status, percent: decidePercent(figures), note, taskNumber };
    if (status === null && isBareAcknowledgement(ctx)) reply.acknowledgement = true;
  }
  return { reply, tokens: ctx.n, steps: ctx.steps };
}
