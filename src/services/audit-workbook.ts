import { formatInstant } from '../domain/time.ts';
import type { AuditView } from './audit.ts';
import { loadExcel } from './excel.ts';
import { addTable, type PlainText } from './summary-workbook.ts';

/** Excel keeps at most 32,767 characters in a cell. */
const CELL_MAX = 32_000;
const cellText = (text: string) => (text.length > CELL_MAX ? `${text.slice(0, CELL_MAX)}…` : text);

/**
 * The audit trail as a workbook (GET /api/audit/export.xlsx): one row per event, newest first, times as
 * dd/MM/yyyy HH:mm in the time zone, actions and kinds named in the reader's language (`t`, the `audit`
 * catalogue) with the action's code beside it, the changes as JSON.
 */
export async function buildAuditWorkbook(
  rows: AuditView[],
  options: { t: PlainText; timeZone: string; now: Date },
): Promise<Buffer> {
  const { t, timeZone } = options;
  const named = (key: string, fallback: string) => t(key, { defaultValue: fallback });
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'thidua-bot';
  workbook.created = options.now;
  const columns = [
    'at',
    'actorKind',
    'actor',
    'actorCode',
    'action',
    'actionCode',
    'targetKind',
    'target',
    'changes',
  ];
  addTable(
    workbook,
    t('audit.sheet'),
    columns.map((column) => t(`audit.columns.${column}`)),
    rows.map((row) => [
      formatInstant(row.at, timeZone),
      named(`audit.actorKinds.${row.actor.kind}`, row.actor.kind),
      row.actor.name ?? '',
      row.actor.code ?? '',
      named(`audit.actions.${row.action}`, row.action),
      row.action,
      named(`audit.targets.${row.target.kind}`, row.target.kind),
      row.target.code ?? row.target.id ?? '',
      row.changes === undefined ? '' : cellText(JSON.stringify(row.changes)),
    ]),
    t('audit.empty'),
  );
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
