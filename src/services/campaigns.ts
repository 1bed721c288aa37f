import type { Db, Queryable, Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { CampaignKind, CampaignState } from '../generated/prisma/enums.ts';
import { dateFromIso, isoDate } from '../domain/time.ts';
import { DomainError, isUuid, notFound } from './errors.ts';
import { preferredAccount } from './accounts.ts';
import { writeOutbox, type OutboxItem } from './outbox.ts';
import type { CampaignNews, NewsRenderer } from './ports.ts';

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

function view(campaign: Awaited<ReturnType<typeof loadCampaign>>): CampaignView {
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

async function unitIdsFor(db: Queryable, codes: string[]): Promise<string[]> {
  const unique = [...new Set(codes)];
  const units = await db.unit.findMany({ where: { code: { in: unique } }, select: { id: true, code: true } });
  const known = new Set(units.map((unit) => unit.code));
  const unknown = unique.filter((code) => !known.has(code));
  if (unknown.length > 0) {
    throw new DomainError('unknown_units', `unknown unit codes: ${unknown.join(', ')}`, {
      unitCodes: unknown,
    });
  }
  return units.map((unit) => unit.id);
}

export async function createCampaign(db: Db, input: CampaignInput): Promise<CampaignView> {
  checkDates(input.startsOn, input.endsOn, input.tasks);
  const issuer = await db.unit.findUnique({ where: { code: input.issuerUnitCode } });
  if (!issuer) {
    throw new DomainError('unknown_issuer', `issuer unit ${input.issuerUnitCode} does not exist`, {
      issuerUnitCode: input.issuerUnitCode,
    });
  }
  const unitIds = await unitIdsFor(db, input.unitCodes);
  const existing = await db.campaign.findUnique({ where: { docNumber: input.docNumber } });
  if (existing) {
    throw new DomainError(
      'duplicate_doc_number',
      `campaign ${input.docNumber} already exists`,
      { id: existing.id },
      'conflict',
    );
  }
  const created = await db.campaign
    .create({
      data: {
        docNumber: input.docNumber,
        title: input.title,
        theme: input.theme ?? null,
        kind: input.kind ?? 'regular',
        issuerUnitId: issuer.id,
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
  return view(await loadCampaign(db, created.id));
}

export async function getCampaign(db: Queryable, id: string): Promise<CampaignView> {
  return view(await loadCampaign(db, id));
}

export async function listCampaigns(db: Queryable): Promise<CampaignView[]> {
  const campaigns = await db.campaign.findMany({ include: campaignInclude, orderBy: { createdAt: 'desc' } });
  return campaigns.map(view);
}

export async function updateCampaign(db: Db, id: string, patch: CampaignPatch): Promise<CampaignView> {
  const current = view(await loadCampaign(db, id));
  const startsOn = patch.startsOn ?? current.startsOn;
  const endsOn = patch.endsOn ?? current.endsOn;
  const tasks = patch.tasks ?? current.tasks;
  checkDates(startsOn, endsOn, tasks);
  const unitIds = patch.unitCodes ? await unitIdsFor(db, patch.unitCodes) : undefined;
  await db.$transaction(async (tx) => {
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
    }
  });
  return view(await loadCampaign(db, id));
}

function newsOf(campaign: Awaited<ReturnType<typeof loadCampaign>>): CampaignNews {
  return {
    campaignId: campaign.id,
    docNumber: campaign.docNumber,
    title: campaign.title,
    theme: campaign.theme,
    tasks: campaign.tasks.map((task) => ({ title: task.title, dueOn: task.dueOn })),
  };
}

/** The active account an official is reached on: the one linked most recently. */
async function reachableOfficials(tx: Queryable, where: { unitIds: string[] } | { officialId: string }) {
  const officials = await tx.official.findMany({
    where:
      'officialId' in where
        ? { id: where.officialId, role: { in: ['focal', 'leader'] } }
        : { unitId: { in: where.unitIds }, role: { in: ['focal', 'leader'] } },
    include: { accounts: { where: { active: true }, orderBy: { linkedAt: 'desc' } } },
  });
  return officials;
}

function launchItems(
  campaign: Awaited<ReturnType<typeof loadCampaign>>,
  officials: Awaited<ReturnType<typeof reachableOfficials>>,
  render: NewsRenderer,
): OutboxItem[] {
  const news = newsOf(campaign);
  return officials.flatMap((official) => {
    const account = preferredAccount(official.accounts, official.preferredChannel);
    if (!account) return [];
    return [
      {
        dedupeKey: `launch:${campaign.id}:${official.id}`,
        channel: account.channel,
        chatId: account.chatId,
        channelAccountId: account.id,
        officialId: official.id,
        message: render.launch(official.locale, news),
      },
    ];
  });
}

export interface LaunchResult {
  recipients: number;
  unreachable: number;
  newlySent: number;
}

/** Sends the launch to every focal and leader official of every participating unit, once. */
export async function launchCampaign(
  db: Db,
  id: string,
  render: NewsRenderer,
  now: Date,
): Promise<LaunchResult> {
  return db.$transaction(
    async (tx) => {
      if (!isUuid(id)) throw notFound('campaign', id);
      // Serialises concurrent launches of one campaign.
      await tx.$queryRaw`SELECT id FROM "Campaign" WHERE id = ${id}::uuid FOR UPDATE`;
      const campaign = await loadCampaign(tx, id);
      if (campaign.state === 'closed') {
        throw new DomainError('campaign_closed', 'a closed campaign cannot be launched', { id }, 'conflict');
      }
      if (campaign.state === 'draft') {
        await tx.campaign.update({ where: { id }, data: { state: 'running', launchedAt: now } });
      }
      const unitIds = (
        await tx.campaignUnit.findMany({ where: { campaignId: id }, select: { unitId: true } })
      ).map((row) => row.unitId);
      const officials = await reachableOfficials(tx, { unitIds });
      const items = launchItems(campaign, officials, render);
      const newlySent = await writeOutbox(tx, items);
      return { recipients: items.length, unreachable: officials.length - items.length, newlySent };
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

/** An official linked after a launch still gets the launches of the running campaigns of their unit. */
export async function sendMissedLaunches(tx: Tx, officialId: string, render: NewsRenderer): Promise<number> {
  const official = await tx.official.findUnique({ where: { id: officialId } });
  if (!official) return 0;
  const campaigns = await tx.campaign.findMany({
    where: { state: 'running', units: { some: { unitId: official.unitId } } },
    include: campaignInclude,
    orderBy: { launchedAt: 'asc' },
  });
  const officials = await reachableOfficials(tx, { officialId });
  let sent = 0;
  for (const campaign of campaigns) sent += await writeOutbox(tx, launchItems(campaign, officials, render));
  return sent;
}
