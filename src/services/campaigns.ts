import type { Db, Queryable, Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { CampaignKind, CampaignState } from '../generated/prisma/enums.ts';
import { dateFromIso, isoDate } from '../domain/time.ts';
import { covers, type Principal } from '../domain/scope.ts';
import { recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { auditedFields, patchChanges } from './campaign-changes.ts';
import { DomainError, isUuid, notFound } from './errors.ts';
import { writeOutbox, type OutboxItem } from './outbox.ts';
import { relayoutCampaignProgress } from './unit-progress.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { CampaignNews, NewsRenderer } from './ports.ts';
import {
  campaignsInReach,
  campaignToManage,
  campaignToRead,
  requireAdmin,
  unitInScope,
  WHOLE_ORGANISATION,
} from './scope.ts';

export interface TaskInput {
  key: string;
  title: string;
  dueOn: string;
}

export interface CampaignInput {
  docNumber: string;
  title: string;
  theme?: string | null | undefined;
  kind?: CampaignKind | undefined;
  issuerUnitCode: string;
  startsOn: string;
  endsOn: string;
  unitCodes: string[];
  tasks: TaskInput[];
  reportSchedule?: Record<string, unknown> | null | undefined;
  policy?: Record<string, unknown> | null | undefined;
}

export type CampaignPatch = Partial<Omit<CampaignInput, 'docNumber' | 'issuerUnitCode'>>;

export interface CampaignView {
  id: string;
  docNumber: string;
  title: string;
  theme: string | null;
  kind: CampaignKind;
  issuerUnitCode: string;
  startsOn: string;
  endsOn: string;
  state: CampaignState;
  unitCodes: string[];
  tasks: TaskInput[];
  reportSchedule: unknown;
  policy: unknown;
  launchedAt: string | null;
  closedAt: string | null;
}

/** Validated JSON objects (zod has checked them) as Prisma's JSON input type. */
const json = (value: Record<string, unknown>): Prisma.InputJsonObject => value as Prisma.InputJsonObject;
const jsonOrNull = (value: Record<string, unknown> | null) => (value === null ? Prisma.DbNull : json(value));

const campaignInclude = {
  issuerUnit: { select: { code: true } },
  units: { select: { unit: { select: { code: true } } } },
  tasks: { orderBy: { position: 'asc' as const } },
};

async function loadCampaign(db: Queryable, id: string) {
  if (!isUuid(id)) throw notFound('campaign', id);
  const campaign = await db.campaign.findUnique({ where: { id }, include: campaignInclude });
  if (!campaign) throw notFound('campaign', id);
  return campaign;
}

function viewOf(campaign: Awaited<ReturnType<typeof loadCampaign>>): CampaignView {
  return {
    id: campaign.id,
    docNumber: campaign.docNumber,
    title: campaign.title,
    theme: campaign.theme,
    kind: campaign.kind,
    issuerUnitCode: campaign.issuerUnit.code,
    startsOn: isoDate(campaign.startsOn),
    endsOn: isoDate(campaign.endsOn),
    state: campaign.state,
    unitCodes: campaign.units.map((row) => row.unit.code).sort(),
    tasks: campaign.tasks.map((task) => ({ key: task.key, title: task.title, dueOn: isoDate(task.dueOn) })),
    reportSchedule: campaign.reportSchedule,
    policy: campaign.policy,
    launchedAt: campaign.launchedAt?.toISOString() ?? null,
    closedAt: campaign.closedAt?.toISOString() ?? null,
  };
}

function checkDates(startsOn: string, endsOn: string, tasks: TaskInput[]): void {
  if (startsOn > endsOn) {
    throw new DomainError('invalid_dates', 'startsOn must not be after endsOn', { startsOn, endsOn });
  }
  const outside = tasks
    .filter((task) => task.dueOn < startsOn || task.dueOn > endsOn)
    .map((task) => task.key);
  if (outside.length > 0) {
    throw new DomainError('task_due_outside_campaign', 'tasks must be due within the campaign', {
      taskKeys: outside,
      startsOn,
      endsOn,
    });
  }
  const keys = tasks.map((task) => task.key);
  const duplicates = keys.filter((key, index) => keys.indexOf(key) !== index);
  if (duplicates.length > 0) {
    throw new DomainError('duplicate_task_key', 'task keys must be unique', {
      taskKeys: [...new Set(duplicates)],
    });
  }
}

/**
 * The ids of units by code; codes unknown, of units that left the tree (merged or dissolved: their successor
 * takes part instead), or outside the caller's subtree (unless already participants), are refused together.
 */
async function unitIdsFor(
  db: Queryable,
  codes: string[],
  principal: Principal,
  participants: string[] = [],
): Promise<string[]> {
  const unique = [...new Set(codes)];
  const units = (
    await db.unit.findMany({
      where: { code: { in: unique }, retiredAt: null },
      select: { id: true, code: true, path: true },
    })
  ).filter((unit) => covers(principal, unit.path) || participants.includes(unit.code));
  const known = new Set(units.map((unit) => unit.code));
  const unknown = unique.filter((code) => !known.has(code));
  if (unknown.length > 0) {
    throw new DomainError('unknown_units', `unknown unit codes: ${unknown.join(', ')}`, {
      unitCodes: unknown,
    });
  }
  return units.map((unit) => unit.id);
}

/**
 * Creates a draft campaign. An admin creates it with the issuer and every participant inside their subtree
 * (others are unknown to them); the audit row holds what was created.
 */
export async function createCampaign(
  db: Db,
  input: CampaignInput,
  caller: Caller = SYSTEM_CALLER,
): Promise<CampaignView> {
  requireAdmin(caller.principal);
  checkDates(input.startsOn, input.endsOn, input.tasks);
  const issuer = await unitInScope(db, caller.principal, input.issuerUnitCode);
  if (!issuer) {
    throw new DomainError('unknown_issuer', `issuer unit ${input.issuerUnitCode} does not exist`, {
      issuerUnitCode: input.issuerUnitCode,
    });
  }
  const unitIds = await unitIdsFor(db, input.unitCodes, caller.principal);
  const existing = await db.campaign.findUnique({ where: { docNumber: input.docNumber } });
  if (existing) {
    throw new DomainError(
      'duplicate_doc_number',
      `campaign ${input.docNumber} already exists`,
      { id: existing.id },
      'conflict',
    );
  }
  const created = await db.$transaction(async (tx) => {
    const campaign = await createRow(tx, input, issuer.id, unitIds);
    const view = viewOf(await loadCampaign(tx, campaign.id));
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'campaign.create',
      target: { kind: 'campaign', id: campaign.id, code: input.docNumber },
      unitId: issuer.id,
      campaignId: campaign.id,
      changes: auditedFields(view),
    });
    return view;
  });
  return created;
}

function createRow(tx: Tx, input: CampaignInput, issuerUnitId: string, unitIds: string[]) {
  return tx.campaign
    .create({
      data: {
        docNumber: input.docNumber,
        title: input.title,
        theme: input.theme ?? null,
        kind: input.kind ?? 'regular',
        issuerUnitId,
        startsOn: dateFromIso(input.startsOn),
        endsOn: dateFromIso(input.endsOn),
        ...(input.reportSchedule ? { reportSchedule: json(input.reportSchedule) } : {}),
        ...(input.policy ? { policy: json(input.policy) } : {}),
        units: { create: unitIds.map((unitId) => ({ unitId })) },
        tasks: {
          create: input.tasks.map((task, position) => ({
            key: task.key,
            title: task.title,
            dueOn: dateFromIso(task.dueOn),
            position,
          })),
        },
      },
    })
    .catch((error: unknown) => {
      // A concurrent creation with the same number won the race between the check above and this insert.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new DomainError(
          'duplicate_doc_number',
          `campaign ${input.docNumber} already exists`,
          {},
          'conflict',
        );
      }
      throw error;
    });
}

/** A campaign the principal may see (campaignInView; 404 otherwise). */
export async function getCampaign(
  db: Queryable,
  id: string,
  principal: Principal = WHOLE_ORGANISATION,
): Promise<CampaignView> {
  if (principal.root !== null) await campaignToRead(db, principal, id);
  return viewOf(await loadCampaign(db, id));
}

/** The campaigns in the principal's reach (issued in their subtree or with a participant there), newest first. */
export async function listCampaigns(
  db: Queryable,
  principal: Principal = WHOLE_ORGANISATION,
): Promise<CampaignView[]> {
  const campaigns = await db.campaign.findMany({
    where: campaignsInReach(principal),
    include: campaignInclude,
    orderBy: { createdAt: 'desc' },
  });
  return campaigns.map(viewOf);
}

/**
 * Changes a campaign (by the admins of its issuer's subtree; new participants inside the caller's subtree).
 * The audit row holds each changed field before and after.
 */
export async function updateCampaign(
  db: Db,
  id: string,
  patch: CampaignPatch,
  caller: Caller = SYSTEM_CALLER,
): Promise<CampaignView> {
  return db.$transaction(async (tx) => {
    const managed = await campaignToManage(tx, caller.principal, id);
    // The row lock keeps two patches from both computing their changes from the same "before".
    await tx.$queryRaw`SELECT id FROM "Campaign" WHERE id = ${id}::uuid FOR UPDATE`;
    const current = viewOf(await loadCampaign(tx, id));
    const startsOn = patch.startsOn ?? current.startsOn;
    const endsOn = patch.endsOn ?? current.endsOn;
    const tasks = patch.tasks ?? current.tasks;
    checkDates(startsOn, endsOn, tasks);
    const unitIds = patch.unitCodes
      ? await unitIdsFor(tx, patch.unitCodes, caller.principal, current.unitCodes)
      : undefined;
    await applyPatch(tx, id, patch, { startsOn, endsOn, unitIds });
    const updated = viewOf(await loadCampaign(tx, id));
    const changes = patchChanges(current, updated);
    if (changes)
      await recordAudit(tx, {
        actor: caller.actor,
        action: 'campaign.update',
        target: { kind: 'campaign', id, code: updated.docNumber },
        unitId: managed.issuerUnitId,
        campaignId: id,
        changes,
      });
    return updated;
  });
}

async function applyPatch(
  tx: Tx,
  id: string,
  patch: CampaignPatch,
  { startsOn, endsOn, unitIds }: { startsOn: string; endsOn: string; unitIds: string[] | undefined },
): Promise<void> {
  await tx.campaign.update({
    where: { id },
    data: {
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
      ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
      ...(patch.reportSchedule !== undefined ? { reportSchedule: jsonOrNull(patch.reportSchedule) } : {}),
      ...(patch.policy !== undefined ? { policy: jsonOrNull(patch.policy) } : {}),
      startsOn: dateFromIso(startsOn),
      endsOn: dateFromIso(endsOn),
    },
  });
  if (unitIds) {
    await tx.campaignUnit.deleteMany({ where: { campaignId: id, unitId: { notIn: unitIds } } });
    await tx.campaignUnit.createMany({
      data: unitIds.map((unitId) => ({ campaignId: id, unitId })),
      skipDuplicates: true,
    });
  }
  if (patch.tasks) {
    // Tasks are matched by key: a task that keeps its key keeps its reports.
    await tx.task.deleteMany({
      where: { campaignId: id, key: { notIn: patch.tasks.map((task) => task.key) } },
    });
    for (const [position, task] of patch.tasks.entries()) {
      await tx.task.upsert({
        where: { campaignId_key: { campaignId: id, key: task.key } },
        create: {
          campaignId: id,
          key: task.key,
          title: task.title,
          dueOn: dateFromIso(task.dueOn),
          position,
        },
        update: { title: task.title, dueOn: dateFromIso(task.dueOn), position },
      });
    }
    await relayoutCampaignProgress(tx, id);
  }
}

/** What a launch message needs of its campaign. */
const launchSelect = {
  id: true,
  docNumber: true,
  title: true,
  theme: true,
  state: true,
  tasks: { orderBy: { position: 'asc' as const }, select: { title: true, dueOn: true } },
};

type LaunchedCampaign = Prisma.CampaignGetPayload<{ select: typeof launchSelect }>;

function newsOf(campaign: LaunchedCampaign): CampaignNews {
  return {
    campaignId: campaign.id,
    docNumber: campaign.docNumber,
    title: campaign.title,
    theme: campaign.theme,
    tasks: campaign.tasks.map((task) => ({ title: task.title, dueOn: task.dueOn })),
  };
}

/** A focal or leader official and the account news reaches them on (none: unreachable). */
interface LaunchRecipient {
  officialId: string;
  locale: string;
  accountId: string | null;
  channel: string | null;
  chatId: string | null;
}

/**
 * The focal and leader officials of a campaign's units (or one official), each with the active account
 * `preferredAccount` would choose: one on their preferred channel, else the one linked last. One query
 * however many officials: loading every official with all their accounts took a tenth of a launch.
 */
async function launchRecipients(
  tx: Queryable,
  who: { campaignId: string } | { officialId: string },
): Promise<LaunchRecipient[]> {
  const whose =
    'campaignId' in who
      ? Prisma.sql`o."unitId" IN (SELECT "unitId" FROM "CampaignUnit" WHERE "campaignId" = ${who.campaignId}::uuid)`
      : Prisma.sql`o.id = ${who.officialId}::uuid`;
  return tx.$queryRaw<LaunchRecipient[]>`
    SELECT o.id AS "officialId", o.locale, a.id AS "accountId", a.channel, a."chatId"
    FROM "Official" o
      LEFT JOIN LATERAL (
        SELECT a.id, a.channel, a."chatId" FROM "ChannelAccount" a
        WHERE a."officialId" = o.id AND a.active
        ORDER BY (a.channel = o."preferredChannel") IS TRUE DESC, a."linkedAt" DESC, a.id DESC
        LIMIT 1
      ) a ON true
    WHERE o.role IN ('focal', 'leader') AND ${whose}`;
}

function launchItems(
  campaign: LaunchedCampaign,
  recipients: LaunchRecipient[],
  render: NewsRenderer,
): OutboxItem[] {
  const news = newsOf(campaign);
  // The launch says the same to everyone who reads the same language: rendered once per locale.
  const messages = new Map<string, OutboundMessage>();
  return recipients.flatMap((recipient) => {
    if (!recipient.accountId || !recipient.channel || !recipient.chatId) return [];
    let message = messages.get(recipient.locale);
    if (!message) {
      message = render.launch(recipient.locale, news);
      messages.set(recipient.locale, message);
    }
    return [
      {
        dedupeKey: `launch:${campaign.id}:${recipient.officialId}`,
        channel: recipient.channel,
        chatId: recipient.chatId,
        channelAccountId: recipient.accountId,
        officialId: recipient.officialId,
        message,
      },
    ];
  });
}

export interface LaunchResult {
  recipients: number;
  unreachable: number;
  newlySent: number;
}

/**
 * Sends the launch to every focal and leader official of every participating unit, once (by the admins of
 * the issuer's subtree). A launch that started the campaign or sent anyone anything is an audit row with
 * the recipient count; a repeated launch that sends nothing is not.
 */
export async function launchCampaign(
  db: Db,
  id: string,
  render: NewsRenderer,
  now: Date,
  caller: Caller = SYSTEM_CALLER,
): Promise<LaunchResult> {
  return db.$transaction(
    async (tx) => {
      if (!isUuid(id)) throw notFound('campaign', id);
      const managed = await campaignToManage(tx, caller.principal, id);
      // Serialises concurrent launches of one campaign.
      await tx.$queryRaw`SELECT id FROM "Campaign" WHERE id = ${id}::uuid FOR UPDATE`;
      const campaign = await tx.campaign.findUnique({ where: { id }, select: launchSelect });
      if (!campaign) throw notFound('campaign', id);
      if (campaign.state === 'closed') {
        throw new DomainError('campaign_closed', 'a closed campaign cannot be launched', { id }, 'conflict');
      }
      if (campaign.state === 'draft') {
        await tx.campaign.update({ where: { id }, data: { state: 'running', launchedAt: now } });
      }
      const recipients = await launchRecipients(tx, { campaignId: id });
      const items = launchItems(campaign, recipients, render);
      const newlySent = await writeOutbox(tx, items);
      const result = { recipients: items.length, unreachable: recipients.length - items.length, newlySent };
      if (campaign.state === 'draft' || newlySent > 0)
        await recordAudit(tx, {
          actor: caller.actor,
          action: 'campaign.launch',
          target: { kind: 'campaign', id, code: campaign.docNumber },
          unitId: managed.issuerUnitId,
          campaignId: id,
          changes: { ...result, ...(campaign.state === 'draft' ? { state: ['draft', 'running'] } : {}) },
          at: now,
        });
      return result;
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

/** An official linked after a launch still gets the launches of the running campaigns of their unit. */
export async function sendMissedLaunches(tx: Tx, officialId: string, render: NewsRenderer): Promise<number> {
  const official = await tx.official.findUnique({ where: { id: officialId }, select: { unitId: true } });
  if (!official) return 0;
  const campaigns = await tx.campaign.findMany({
    where: { state: 'running', units: { some: { unitId: official.unitId } } },
    select: launchSelect,
    orderBy: { launchedAt: 'asc' },
  });
  if (campaigns.length === 0) return 0;
  const recipients = await launchRecipients(tx, { officialId });
  let sent = 0;
  for (const campaign of campaigns) sent += await writeOutbox(tx, launchItems(campaign, recipients, render));
  return sent;
}
