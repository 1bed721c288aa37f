import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DEFAULT_DIGEST, DIGEST_TIME } from '../domain/weekly-digest.ts';
import { unitTree, type TreeUnit } from '../services/console-reads.ts';
import { DomainError } from '../services/errors.ts';
import { linkCodeHtml, linkCodeWorkbook } from '../services/link-code-sheet.ts';
import { issueSubtreeLinkCodes } from '../services/link-codes.ts';
import { getOfficial, issueLinkCode, upsertOfficial, type OfficialInput } from '../services/officials.ts';
import { requireAdmin, unitInScope } from '../services/scope.ts';
import { getUnit, upsertUnit, type UnitInput } from '../services/units.ts';
import { formList, formText, type FormErrors } from './campaign-form.ts';
import { flatten } from './campaign-writes.ts';
import { ConsoleHttpError, identityOf, type ConsoleContext } from './context.ts';
import { officialStanding } from './official-actions.ts';
import { retiredUnitPage } from './organisation.ts';
import { noStore } from './security.ts';

/**
 * The organisation's forms: a unit created, renamed or moved (upsertUnit), an official created or changed
 * (upsertOfficial), a link code for one official and printable link-code sheets for a unit's subtree.
 * Deactivating, erasing and exporting an official (official-actions.ts) and the import have their own pages.
 */

const CODE = /^[\p{L}\p{N}_.\-/]+$/u;
const PHONE = /^\+?[0-9 .-]{8,20}$/;
const ROLES = ['member', 'focal', 'leader', 'admin'] as const;
const CHANNELS = ['telegram', 'zalo', 'zalo_oa'] as const;
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const codeParams = z.object({ code: z.string().min(1).max(64) });
const body = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;

type UnitValues = Record<'code' | 'name' | 'parentCode' | 'kind' | 'blockCodes', string>;
type OfficialValues = Record<
  | 'code'
  | 'name'
  | 'unitCode'
  | 'role'
  | 'phone'
  | 'locale'
  | 'preferredChannel'
  | 'digestWeekday'
  | 'digestTime',
  string
>;

function checkCode(errors: FormErrors, field: string, value: string, required = true): void {
  if (value === '') {
    if (required) errors[field] = { key: 'form.errors.required' };
  } else if (!CODE.test(value) || value.length > 64) errors[field] = { key: 'form.errors.code' };
}

function unitInput(values: UnitValues): { input: UnitInput; errors: FormErrors } {
  const errors: FormErrors = {};
  checkCode(errors, 'code', values.code);
  if (values.name === '') errors.name = { key: 'form.errors.required' };
  else if (values.name.length > 300) errors.name = { key: 'form.errors.tooLong', vars: { max: 300 } };
  checkCode(errors, 'parentCode', values.parentCode, false);
  if (values.kind.length > 64) errors.kind = { key: 'form.errors.tooLong', vars: { max: 64 } };
  const blockCodes = [...new Set(values.blockCodes.split(/[\s,;]+/).filter(Boolean))];
  const bad = blockCodes.filter((code) => !CODE.test(code) || code.length > 64);
  if (bad.length > 0 || blockCodes.length > 50)
    errors.blockCodes = { key: 'form.errors.blockCodes', vars: { codes: bad.join(', ') } };
  return {
    input: {
      name: values.name,
      parentCode: values.parentCode || null,
      kind: values.kind || null,
      blockCodes,
    },
    errors,
  };
}

function officialInput(values: OfficialValues): { input: OfficialInput; errors: FormErrors } {
  const errors: FormErrors = {};
  checkCode(errors, 'code', values.code);
  if (values.name === '') errors.name = { key: 'form.errors.required' };
  else if (values.name.length > 200) errors.name = { key: 'form.errors.tooLong', vars: { max: 200 } };
  checkCode(errors, 'unitCode', values.unitCode);
  const role = ROLES.find((candidate) => candidate === values.role);
  if (!role) errors.role = { key: 'form.errors.required' };
  if (values.phone !== '' && !PHONE.test(values.phone)) errors.phone = { key: 'form.errors.phone' };
  const channel = CHANNELS.find((candidate) => candidate === values.preferredChannel) ?? null;
  const weekday = /^[1-7]$/.test(values.digestWeekday) ? Number(values.digestWeekday) : null;
  if (weekday !== null && !DIGEST_TIME.test(values.digestTime))
    errors.digestTime = { key: 'form.errors.time' };
  return {
    input: {
      name: values.name,
      unitCode: values.unitCode,
      role: role ?? 'member',
      phone: values.phone || null,
      locale: values.locale === 'en' ? 'en' : 'vi',
      preferredChannel: channel,
      digest: weekday === null ? null : { weekday, time: values.digestTime },
    },
    errors,
  };
}

/** A service's refusal of a unit or an official, beside the field it concerns. */
function refusal(error: DomainError): FormErrors {
  const field =
    {
      unknown_parent: 'parentCode',
      cycle: 'parentCode',
      parent_required: 'parentCode',
      unknown_unit: 'unitCode',
    }[error.code] ?? 'form';
  return { [field]: { key: `form.errors.${error.code}`, vars: { message: error.message } } };
}

const isFormRefusal = (error: unknown): error is DomainError =>
  error instanceof DomainError && (error.kind === 'invalid' || error.kind === 'conflict');

export function registerOrganisationForms(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;
  const callerOf = (request: FastifyRequest) => {
    const identity = identityOf(request);
    requireAdmin(identity.principal);
    return { identity, caller: { actor: identity.actor, principal: identity.principal } };
  };
  const units = async (request: FastifyRequest): Promise<TreeUnit[]> =>
    flatten(await unitTree(db, identityOf(request).principal.root?.path ?? null));

  const page = async (
    request: FastifyRequest,
    reply: FastifyReply,
    template: string,
    data: Record<string, unknown> & { errors?: FormErrors },
  ) => {
    const identity = identityOf(request);
    const errors = data.errors ?? {};
    return views.page(
      reply,
      template,
      {
        identity,
        csrf: context.csrfFor(request, reply),
        section: template.startsWith('unit') ? 'organisation' : 'officials',
        status: Object.keys(errors).length > 0 || data.sheetError ? 400 : 200,
      },
      { ...data, errors, units: await units(request) },
    );
  };

  // ---- Units

  const unitPage = (request: FastifyRequest, reply: FastifyReply, values: UnitValues, extra: object = {}) =>
    page(request, reply, 'unit-form', {
      title: views.t(identityOf(request).locale)(
        'existing' in extra ? 'unitForm.editTitle' : 'unitForm.newTitle',
      ),
      values,
      existing: null,
      sheetError: '',
      ...extra,
    });

  scope.get('/units/new', async (request, reply) => {
    callerOf(request);
    const parent = formText((request.query as Record<string, unknown>).parent);
    return unitPage(request, reply, { code: '', name: '', parentCode: parent, kind: '', blockCodes: '' });
  });

  scope.post('/units', async (request, reply) => {
    const { caller } = callerOf(request);
    const values = unitValues(body(request));
    const { input, errors } = unitInput(values);
    if (!errors.code && (await db.unit.findUnique({ where: { code: values.code }, select: { id: true } })))
      errors.code = { key: 'form.errors.unitExists' };
    if (Object.keys(errors).length > 0) return unitPage(request, reply, values, { errors });
    try {
      await upsertUnit(db, values.code, input, caller);
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return unitPage(request, reply, values, { errors: refusal(error) });
    }
    return reply.redirect(`/console/units/${encodeURIComponent(values.code)}?done=created`, 303);
  });

  const existingUnit = async (request: FastifyRequest) => {
    const { identity, caller } = callerOf(request);
    const { code } = codeParams.parse(request.params);
    const unit = await unitInScope(db, identity.principal, code);
    if (!unit) throw new ConsoleHttpError(404, 'errors.notFound');
    const view = await getUnit(db, code);
    const parent = view.parentCode
      ? await db.unit.findUnique({ where: { code: view.parentCode }, select: { code: true, name: true } })
      : null;
    return { caller, view, parent };
  };

  scope.get('/units/:code', async (request, reply) => {
    // An old code (a unit merged away or dissolved) is answered with its history: where it went.
    const { code } = codeParams.parse(request.params);
    const retired = await retiredUnitPage(db, callerOf(request).identity.principal, code);
    if (retired) return reply.redirect(retired, 303);
    const { view, parent } = await existingUnit(request);
    const done = formText((request.query as Record<string, unknown>).done);
    return unitPage(
      request,
      reply,
      {
        code: view.code,
        name: view.name,
        parentCode: view.parentCode ?? '',
        kind: view.kind ?? '',
        blockCodes: view.blockCodes.join(', '),
      },
      { existing: { ...view, parent }, done },
    );
  });

  scope.post('/units/:code', async (request, reply) => {
    const { caller, view, parent } = await existingUnit(request);
    const values = { ...unitValues(body(request)), code: view.code };
    const { input, errors } = unitInput(values);
    const existing = { existing: { ...view, parent } };
    if (Object.keys(errors).length > 0) return unitPage(request, reply, values, { ...existing, errors });
    try {
      await upsertUnit(db, view.code, input, caller);
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return unitPage(request, reply, values, { ...existing, errors: refusal(error) });
    }
    return reply.redirect(`/console/units/${encodeURIComponent(view.code)}?done=updated`, 303);
  });

  scope.post('/units/:code/link-codes', async (request, reply) => {
    const { caller, view, parent } = await existingUnit(request);
    const fields = body(request);
    const roles = formList(fields.roles).filter((role): role is (typeof ROLES)[number] =>
      (ROLES as readonly string[]).includes(role),
    );
    let issued;
    try {
      issued = await issueSubtreeLinkCodes(
        db,
        view.code,
        { roles: roles.length > 0 ? roles : undefined, unlinkedOnly: formText(fields.unlinked) === '1' },
        deps,
        caller,
      );
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      const values = {
        code: view.code,
        name: view.name,
        parentCode: view.parentCode ?? '',
        kind: view.kind ?? '',
        blockCodes: view.blockCodes.join(', '),
      };
      return unitPage(request, reply, values, {
        existing: { ...view, parent },
        sheetError: `unitForm.sheetErrors.${error.code}`,
      });
    }
    const sheet = {
      unit: issued.unit,
      timeZone: deps.timeZone,
      codes: issued.codes.map((entry) => ({ ...entry, link: deps.deepLink?.(entry.code) })),
    };
    const filename = `ma-lien-ket-${issued.unit.code.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    noStore(reply);
    if (formText(fields.format) === 'xlsx')
      return reply
        .type(XLSX_TYPE)
        .header('content-disposition', `attachment; filename="${filename}.xlsx"`)
        .send(await linkCodeWorkbook(sheet));
    const html = await linkCodeHtml(sheet);
    // A page to print, with its own policy: its QR codes are data: pictures and its style sits in the page.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    return reply
      .header(
        'content-security-policy',
        `default-src 'none'; img-src data:; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      )
      .type('text/html; charset=utf-8')
      .send(html);
  });

  // ---- Officials

  const officialPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    values: OfficialValues,
    extra: object = {},
  ) =>
    page(request, reply, 'official-form', {
      title: views.t(identityOf(request).locale)(
        'existing' in extra ? 'officialForm.editTitle' : 'officialForm.newTitle',
      ),
      values,
      roles: ROLES,
      channels: CHANNELS,
      issued: null,
      standing: null,
      ...extra,
    });

  scope.get('/officials/new', async (request, reply) => {
    const { identity } = callerOf(request);
    const unit =
      formText((request.query as Record<string, unknown>).unit) || identity.official?.unit.code || '';
    return officialPage(request, reply, {
      code: '',
      name: '',
      unitCode: unit,
      role: 'focal',
      phone: '',
      locale: 'vi',
      preferredChannel: '',
      digestWeekday: String(DEFAULT_DIGEST.weekday),
      digestTime: DEFAULT_DIGEST.time,
    });
  });

  scope.post('/officials/new', async (request, reply) => {
    const { caller } = callerOf(request);
    const values = officialValues(body(request));
    const { input, errors } = officialInput(values);
    if (
      !errors.code &&
      (await db.official.findUnique({ where: { code: values.code }, select: { id: true } }))
    )
      errors.code = { key: 'form.errors.officialExists' };
    if (Object.keys(errors).length > 0) return officialPage(request, reply, values, { errors });
    try {
      await upsertOfficial(db, values.code, input, caller, { now: deps.clock.now() });
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return officialPage(request, reply, values, { errors: refusal(error) });
    }
    return reply.redirect(`/console/officials/${encodeURIComponent(values.code)}/edit?done=created`, 303);
  });

  const existingOfficial = async (request: FastifyRequest) => {
    const { identity, caller } = callerOf(request);
    const { code } = codeParams.parse(request.params);
    const view = await getOfficial(db, code, identity.principal);
    return { caller, view, standing: await officialStanding(db, code, deps.clock.now()) };
  };
  const storedValues = (view: Awaited<ReturnType<typeof getOfficial>>): OfficialValues => ({
    code: view.code,
    name: view.name,
    unitCode: view.unitCode,
    role: view.role,
    phone: view.phone ?? '',
    locale: view.locale,
    preferredChannel: view.preferredChannel ?? '',
    digestWeekday: view.digest ? String(view.digest.weekday) : '',
    digestTime: view.digest?.time ?? DEFAULT_DIGEST.time,
  });

  scope.get('/officials/:code/edit', async (request, reply) => {
    const { view, standing } = await existingOfficial(request);
    const done = formText((request.query as Record<string, unknown>).done);
    return officialPage(request, reply, storedValues(view), { existing: view, standing, done });
  });

  scope.post('/officials/:code/edit', async (request, reply) => {
    const { caller, view, standing } = await existingOfficial(request);
    const values = { ...officialValues(body(request)), code: view.code };
    const { input, errors } = officialInput(values);
    const existing = { existing: view, standing };
    if (Object.keys(errors).length > 0) return officialPage(request, reply, values, { ...existing, errors });
    try {
      await upsertOfficial(db, view.code, input, caller, { now: deps.clock.now() });
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return officialPage(request, reply, values, { ...existing, errors: refusal(error) });
    }
    return reply.redirect(`/console/officials/${encodeURIComponent(view.code)}/edit?done=updated`, 303);
  });

  // One official's link code, shown this once (only its hash is kept).
  scope.post('/officials/:code/link-code', async (request, reply) => {
    const { caller, view, standing } = await existingOfficial(request);
    const issued = await issueLinkCode(db, view.code, deps, caller);
    return officialPage(request, reply, storedValues(view), {
      existing: view,
      standing,
      issued: { ...issued, link: deps.deepLink?.(issued.code) ?? null },
    });
  });
}

const unitValues = (fields: Record<string, unknown>): UnitValues => ({
  code: formText(fields.code),
  name: formText(fields.name),
  parentCode: formText(fields.parentCode),
  kind: formText(fields.kind),
  blockCodes: formText(fields.blockCodes),
});

const officialValues = (fields: Record<string, unknown>): OfficialValues => ({
  code: formText(fields.code),
  name: formText(fields.name),
  unitCode: formText(fields.unitCode),
  role: formText(fields.role),
  phone: formText(fields.phone),
  locale: formText(fields.locale),
  preferredChannel: formText(fields.preferredChannel),
  digestWeekday: formText(fields.digestWeekday),
  digestTime: formText(fields.digestTime),
});
