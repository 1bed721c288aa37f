// The reply parser lives in ./reply-parser/ as stages over one context; this entry keeps the
// module path that the dialogue, the import and the other domain modules use.
export { foldVietnamese, parseStatusReply, type ParsedReply, type Status } from './reply-parser/index.ts';
export { parseTaskReplies, type TaskReply } from './reply-parser/multi-task.ts';
