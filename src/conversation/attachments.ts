import type { Queryable } from '../db/client.ts';
import type { AttachmentRef } from '../domain/message.ts';
import { exemplarRows, type ExemplarScope } from '../services/exemplars.ts';
import { renderSummaryChart } from '../services/summary-chart.ts';
import { buildSummaryWorkbook, plainLines, type ExemplarRow } from '../services/summary-workbook.ts';
import { campaignRollUp, summaryFromRollUp } from '../services/summaries.ts';
import { organisationChanges } from '../services/unit-lineage.ts';
import type { Renderer } from './render.ts';

/** The bytes of an attachment, made when it is sent. */
export interface AttachmentFile {
  bytes: Buffer;
  filename: string;
  contentType: string;
}

export interface AttachmentDeps {
  db: Queryable;
  render: Renderer;
  timeZone: string;
  /** The exemplars of a scope for the workbook (absent: those recorded in the database). */
  exemplars?: (campaignId: string, scope: ExemplarScope) => Promise<ExemplarRow[]>;
}

const slug = (value: string) =>
  value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The summary chart (PNG) of a scope. */
export async function summaryChartPng(
  deps: AttachmentDeps,
  ref: Omit<AttachmentRef, 'type'>,
): Promise<AttachmentFile> {
  const now = new Date(ref.at);
  const rolled = await campaignRollUp(deps.db, ref.campaignId, { unitCode: ref.unitCode, block: ref.block });
  const summary = summaryFromRollUp(rolled, { block: ref.block, now, timeZone: deps.timeZone });
  const bytes = renderSummaryChart(summary.children, deps.render.chartText(ref.locale, summary, now));
  return {
    bytes,
    filename: `tonghop-${slug(summary.campaign.docNumber)}.png`,
    contentType: 'image/png',
  };
}

/** The summary workbook (XLSX) of a scope. */
export async function summaryWorkbook(
  deps: AttachmentDeps,
  ref: Omit<AttachmentRef, 'type'>,
): Promise<AttachmentFile> {
  const now = new Date(ref.at);
  const rolled = await campaignRollUp(deps.db, ref.campaignId, {
    unitCode: ref.unitCode,
    block: ref.block,
    details: true,
  });
  const summary = summaryFromRollUp(rolled, { block: ref.block, now, timeZone: deps.timeZone });
  const scope = { unitCode: ref.unitCode, block: ref.block };
  const exemplars = await (deps.exemplars ?? ((id, within) => exemplarRows(deps.db, id, within)))(
    ref.campaignId,
    scope,
  );
  const changes = await organisationChanges(
    deps.db,
    rolled.campaign,
    rolled.units.map((unit) => unit.code),
  );
  const bytes = await buildSummaryWorkbook({
    rolled,
    summaryLines: plainLines(deps.render.summary(ref.locale, summary, now, exemplars.length).text),
    exemplars,
    changes,
    t: deps.render.plain(ref.locale),
    statusLabel: (status) => deps.render.statusLabel(ref.locale, status),
    now,
    timeZone: deps.timeZone,
  });
  return {
    bytes,
    filename: `tonghop-${slug(summary.campaign.docNumber)}.xlsx`,
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  };
}

export function makeAttachment(deps: AttachmentDeps, ref: AttachmentRef): Promise<AttachmentFile> {
  return ref.type === 'chart' ? summaryChartPng(deps, ref) : summaryWorkbook(deps, ref);
}
