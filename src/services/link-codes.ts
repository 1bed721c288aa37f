import { randomUUID } from 'node:crypto';
import type { Db, Tx } from '../db/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { LINK_CODE_TTL_HOURS, linkCodeFromBytes } from '../domain/link-code.ts';
import { recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { DomainError, notFound } from './errors.ts';
import { hashLinkCode, requireLinkCodeKeys, type LinkCodeKeys } from './officials.ts';
import type { Clock, Random } from './ports.ts';
import { requireAdmin, unitInScope } from './scope.ts';

/** Officials per sheet: a larger subtree is handed out unit by unit. */
export const SUBTREE_LINK_CODES_MAX = 5_000;

export interface SubtreeLinkCode {
  officialCode: string;
  name: string;
  role: Role;
  unitCode: string;
  unitName: string;
  code: string;
  expiresAt: Date;
}

/**
/**
 * Issues one fresh link code (as issueLinkCode does: single use, valid 72 h, only the keyed hash stored) to
 * every active official of a unit's subtree, in one statement; ordered by unit (tree order) and name.
 * Codes issued earlier stay valid until they expire. Deactivated officials get none. The caller's subtree
 * holds the unit (else it is unknown to them); each code issued is an audit row (without the code).
 */
export async function issueSubtreeLinkCodes(
  db: Db,
  unitCode: string,
  options: { roles?: Role[] | undefined; unlinkedOnly?: boolean | undefined },
  deps: { clock: Clock; random: Random; linkCodeKeys?: LinkCodeKeys | undefined },
  caller: Caller = SYSTEM_CALLER,
): Promise<{ unit: { code: string; name: string }; codes: SubtreeLinkCode[] }> {
  requireAdmin(caller.principal);
  return db.$transaction((tx) => issue(tx, unitCode, options, deps, caller), { timeout: 60_000 });
}

async function issue(
  db: Tx,
  unitCode: string,
  options: { roles?: Role[] | undefined; unlinkedOnly?: boolean | undefined },
  deps: { clock: Clock; random: Random; linkCodeKeys?: LinkCodeKeys | undefined },
  caller: Caller,
): Promise<{ unit: { code: string; name: string }; codes: SubtreeLinkCode[] }> {
  const unit = await unitInScope(db, caller.principal, unitCode);
  if (!unit) throw notFound('unit', unitCode);
  const keys = requireLinkCodeKeys(deps.linkCodeKeys);
  const officials = await db.official.findMany({
    where: {
      unit: { path: { startsWith: unit.path } },
      active: true,
      ...(options.roles ? { role: { in: options.roles } } : {}),
      ...(options.unlinkedOnly ? { accounts: { none: { active: true } } } : {}),
    },
    select: {
      id: true,
      code: true,
      name: true,
      role: true,
      unitId: true,
      unit: { select: { code: true, name: true, path: true } },
    },
  });
  if (officials.length === 0)
    throw new DomainError('no_officials', `no official of unit ${unitCode} matches`, { unit: unitCode });
  if (officials.length > SUBTREE_LINK_CODES_MAX)
    throw new DomainError(
      'too_many_officials',
      `${officials.length} officials; at most ${SUBTREE_LINK_CODES_MAX} per sheet: ask for a smaller unit`,
      { count: officials.length, max: SUBTREE_LINK_CODES_MAX },
    );
  officials.sort(
    (a, b) =>
      a.unit.path.localeCompare(b.unit.path) ||
      a.name.localeCompare(b.name, 'vi') ||
      a.code.localeCompare(b.code),
  );
  const expiresAt = new Date(deps.clock.now().getTime() + LINK_CODE_TTL_HOURS * 3600_000);
  const codes = officials.map(() => linkCodeFromBytes(deps.random.bytes(32)));
  // Prisma keeps DateTime columns as UTC wall time in "timestamp without time zone".
  const utcWallTime = expiresAt.toISOString().replace('Z', '');
  await db.$executeRaw`
    INSERT INTO "LinkCode" (id, "officialId", "codeHash", "expiresAt")
    SELECT * FROM unnest(${officials.map(() => randomUUID())}::uuid[], ${officials.map((o) => o.id)}::uuid[],
                         ${codes.map((code) => hashLinkCode(code, keys.current))}::text[], ${officials.map(() => utcWallTime)}::timestamp(3)[])`;
  await recordAudit(
    db,
    ...officials.map((official) => ({
      actor: caller.actor,
      action: 'official.link_code',
      target: { kind: 'official', id: official.id, code: official.code },
      unitId: official.unitId,
      changes: { expiresAt: expiresAt.toISOString(), sheet: unit.code },
      at: deps.clock.now(),
    })),
  );
  return {
    unit: { code: unit.code, name: unit.name },
    codes: officials.map((official, index) => ({
      officialCode: official.code,
      name: official.name,
      role: official.role,
      unitCode: official.unit.code,
      unitName: official.unit.name,
      code: codes[index] ?? '',
      expiresAt,
    })),
  };
}
