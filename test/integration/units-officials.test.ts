import { createHash, createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { LINK_CODE_ALPHABET, LINK_CODE_LENGTH } from '../../src/domain/link-code.ts';
import { DomainError } from '../../src/services/errors.ts';
import {
  hashLinkCode,
  issueLinkCode,
  redeemLinkCode,
  upsertOfficial,
  type LinkCodeKeys,
  type RedeemResult,
} from '../../src/services/officials.ts';
import type { Clock, Random } from '../../src/services/ports.ts';
import { getUnit, upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { redeemDeps, TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

const T0 = new Date('2026-06-15T02:00:00.000Z');
const clock: Clock = { now: () => T0 };
const random: Random = { bytes: (n) => randomBytes(n) };
const later = (hours: number): Date => new Date(T0.getTime() + hours * 3600_000);

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.close();
});

/** Runs `work` and returns the DomainError it throws (fails when it throws anything else or nothing). */
async function domainError(work: () => Promise<unknown>): Promise<DomainError> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

async function unitRow(code: string) {
  return db.unit.findUniqueOrThrow({ where: { code } });
}

async function snapshotUnits() {
  return db.unit.findMany({
    orderBy: { code: 'asc' },
    select: { id: true, code: true, name: true, parentId: true, path: true, kind: true, blockCodes: true },
  });
}

describe('units', () => {
  beforeAll(async () => {
    // Two provinces; LC has districts TD and PT; TD has communes BL and BG; BL has a village BL-THON1.
    await upsertUnit(db, 'LC', { name: 'UBND tỉnh Lai Châu' });
    await upsertUnit(db, 'DB', { name: 'UBND tỉnh Điện Biên' });
    await upsertUnit(db, 'TD', { name: 'UBND huyện Tam Đường', parentCode: 'LC' });
    await upsertUnit(db, 'PT', { name: 'UBND huyện Phong Thổ', parentCode: 'LC' });
    await upsertUnit(db, 'TD-BL', { name: 'UBND xã Bình Lư', parentCode: 'TD' });
    await upsertUnit(db, 'TD-BG', { name: 'UBND xã Bản Giang', parentCode: 'TD' });
    await upsertUnit(db, 'TD-BL-T1', { name: 'Thôn 1 Bình Lư', parentCode: 'TD-BL' });
  });

  it('builds a tree with materialised paths of ids', async () => {
    const lc = await unitRow('LC');
    const td = await unitRow('TD');
    const bl = await unitRow('TD-BL');
    const t1 = await unitRow('TD-BL-T1');
    expect(lc.parentId).toBeNull();
    expect(lc.path).toBe(`/${lc.id}/`);
    expect(td.parentId).toBe(lc.id);
    expect(td.path).toBe(`${lc.path}${td.id}/`);
    expect(bl.path).toBe(`${td.path}${bl.id}/`);
    expect(t1.path).toBe(`${bl.path}${t1.id}/`);
    expect(await getUnit(db, 'TD-BL')).toEqual({
      code: 'TD-BL',
      name: 'UBND xã Bình Lư',
      parentCode: 'TD',
      kind: null,
      blockCodes: [],
    });
  });

  it('moves a whole subtree when a unit is put under another parent', async () => {
    // Move TD (with TD-BL, TD-BG and TD-BL-T1) from LC to DB.
    const before = await unitRow('TD');
    const view = await upsertUnit(db, 'TD', { name: 'UBND huyện Tam Đường', parentCode: 'DB' });
    expect(view.parentCode).toBe('DB');
    const dbProvince = await unitRow('DB');
    const td = await unitRow('TD');
    expect(td.id).toBe(before.id);
    expect(td.parentId).toBe(dbProvince.id);
    expect(td.path).toBe(`${dbProvince.path}${td.id}/`);
    for (const code of ['TD-BL', 'TD-BG', 'TD-BL-T1']) {
      const row = await unitRow(code);
      expect(row.path.startsWith(dbProvince.path)).toBe(true);
      expect(row.path.startsWith(td.path)).toBe(true);
    }
    const bl = await unitRow('TD-BL');
    const bg = await unitRow('TD-BG');
    const t1 = await unitRow('TD-BL-T1');
    expect(bl.path).toBe(`${dbProvince.path}${td.id}/${bl.id}/`);
    expect(bg.path).toBe(`${dbProvince.path}${td.id}/${bg.id}/`);
    expect(t1.path).toBe(`${dbProvince.path}${td.id}/${bl.id}/${t1.id}/`);
    // Nothing is left under the old parent but PT.
    const lc = await unitRow('LC');
    const underLc = await db.unit.findMany({
      where: { path: { startsWith: lc.path } },
      select: { code: true },
    });
    expect(underLc.map((row) => row.code).sort()).toEqual(['LC', 'PT']);
    // Move it back for the tests that follow.
    await upsertUnit(db, 'TD', { name: 'UBND huyện Tam Đường', parentCode: 'LC' });
    expect((await unitRow('TD-BL-T1')).path.startsWith(lc.path)).toBe(true);
  });

  it('moves a leaf unit to another parent', async () => {
    await upsertUnit(db, 'LEAF', { name: 'Phòng Văn hóa', parentCode: 'LC' });
    const leaf = await unitRow('LEAF');
    await upsertUnit(db, 'LEAF', { name: 'Phòng Văn hóa', parentCode: 'PT' });
    const pt = await unitRow('PT');
    const moved = await unitRow('LEAF');
    expect(moved.id).toBe(leaf.id);
    expect(moved.parentId).toBe(pt.id);
    expect(moved.path).toBe(`${pt.path}${leaf.id}/`);
  });

  it('refuses a cycle and changes nothing', async () => {
    const before = await snapshotUnits();
    const intoGrandchild = await domainError(() =>
      upsertUnit(db, 'TD', { name: 'Đổi tên', parentCode: 'TD-BL-T1' }),
    );
    expect(intoGrandchild.code).toBe('cycle');
    const intoItself = await domainError(() => upsertUnit(db, 'TD', { name: 'Đổi tên', parentCode: 'TD' }));
    expect(intoItself.code).toBe('cycle');
    const rootUnderChild = await domainError(() => upsertUnit(db, 'LC', { name: 'X', parentCode: 'TD-BG' }));
    expect(rootUnderChild.code).toBe('cycle');
    expect(await snapshotUnits()).toEqual(before);
  });

  it('refuses an unknown parent and writes nothing', async () => {
    const before = await snapshotUnits();
    const error = await domainError(() => upsertUnit(db, 'NEW', { name: 'Mới', parentCode: 'NOPE' }));
    expect(error.code).toBe('unknown_parent');
    expect(error.details).toEqual({ parentCode: 'NOPE' });
    const moving = await domainError(() => upsertUnit(db, 'TD-BG', { name: 'X', parentCode: 'NOPE' }));
    expect(moving.code).toBe('unknown_parent');
    expect(await snapshotUnits()).toEqual(before);
  });

  it('is idempotent: the same PUT twice keeps the row id and path', async () => {
    const body = { name: 'UBND xã Bản Bo', parentCode: 'TD', kind: 'commune', blockCodes: ['XA'] };
    const first = await upsertUnit(db, 'TD-BB', body);
    const rowA = await unitRow('TD-BB');
    const second = await upsertUnit(db, 'TD-BB', body);
    const rowB = await unitRow('TD-BB');
    expect(second).toEqual(first);
    expect(rowB.id).toBe(rowA.id);
    expect(rowB.path).toBe(rowA.path);
    expect(await db.unit.count({ where: { code: 'TD-BB' } })).toBe(1);
    // Re-PUTting a parent with the same body leaves its subtree's paths as they were.
    const subtree = await snapshotUnits();
    await upsertUnit(db, 'TD', { name: 'UBND huyện Tam Đường', parentCode: 'LC' });
    expect(await snapshotUnits()).toEqual(subtree);
  });
});

describe('officials', () => {
  beforeAll(async () => {
    await upsertUnit(db, 'OFF-U1', { name: 'Phòng Nội vụ' });
    await upsertUnit(db, 'OFF-U2', { name: 'UBND xã Sơn Bình', parentCode: 'OFF-U1' });
  });

  it('refuses an unknown unit', async () => {
    const error = await domainError(() =>
      upsertOfficial(db, 'CB-X', { name: 'Không có', unitCode: 'NOPE', role: 'focal' }),
    );
    expect(error.code).toBe('unknown_unit');
    expect(error.details).toEqual({ unitCode: 'NOPE' });
    expect(await db.official.count({ where: { code: 'CB-X' } })).toBe(0);
  });

  it('updates name, role and unit on a second PUT', async () => {
    const first = await upsertOfficial(db, 'CB-1', { name: 'Lò Văn A', unitCode: 'OFF-U1', role: 'member' });
    expect(first).toMatchObject({ code: 'CB-1', name: 'Lò Văn A', unitCode: 'OFF-U1', role: 'member' });
    const { id } = await db.official.findUniqueOrThrow({ where: { code: 'CB-1' } });
    const second = await upsertOfficial(db, 'CB-1', {
      name: 'Lò Văn Anh',
      unitCode: 'OFF-U2',
      role: 'leader',
      phone: '0912345678',
    });
    expect(second).toEqual({
      code: 'CB-1',
      name: 'Lò Văn Anh',
      unitCode: 'OFF-U2',
      role: 'leader',
      phone: '0912345678',
      locale: 'vi',
      preferredChannel: null,
      digest: { weekday: 1, time: '08:00' },
      active: true,
      channels: [],
    });
    const row = await db.official.findUniqueOrThrow({ where: { code: 'CB-1' } });
    expect(row.id).toBe(id);
    expect(row.role).toBe('leader');
    expect(row.name).toBe('Lò Văn Anh');
    expect(await db.official.count({ where: { code: 'CB-1' } })).toBe(1);
  });
});

describe('link codes', () => {
  let seq = 0;

  async function newOfficial(): Promise<string> {
    seq += 1;
    const code = `LK-${seq}`;
    await upsertOfficial(db, code, { name: `Cán bộ ${seq}`, unitCode: 'LK-UNIT', role: 'focal' });
    return code;
  }

  function redeem(chatId: string, code: string, now: Date = later(1)): Promise<RedeemResult> {
    return db.$transaction((tx) =>
      redeemLinkCode(tx, { channel: 'telegram', chatId, code, now }, redeemDeps),
    );
  }

  beforeAll(async () => {
    await upsertUnit(db, 'LK-UNIT', { name: 'UBND xã Hồ Thầu' });
  });

  it('issues 10 characters of the alphabet, stores only the hash and expires after 72 h', async () => {
    const officialCode = await newOfficial();
    const issued = await issueLinkCode(db, officialCode, {
      clock,
      random,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    expect(issued.code).toHaveLength(LINK_CODE_LENGTH);
    expect(issued.code).toMatch(new RegExp(`^[${LINK_CODE_ALPHABET}]{${LINK_CODE_LENGTH}}$`));
    expect(issued.expiresAt.toISOString()).toBe(later(72).toISOString());
    const official = await db.official.findUniqueOrThrow({ where: { code: officialCode } });
    const rows = await db.linkCode.findMany({ where: { officialId: official.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.codeHash).toBe(hashLinkCode(issued.code, TEST_LINK_CODE_KEYS.current));
    expect(rows[0]?.codeHash).not.toContain(issued.code);
    // No row of any table holds the plain code.
    const tables = await db.$queryRaw<{ tablename: string }[]>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'public'`;
    expect(tables.map((table) => table.tablename)).toContain('LinkCode');
    for (const { tablename } of tables) {
      const hits = await db.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM "${tablename}" t WHERE t::text ILIKE $1`,
        `%${issued.code}%`,
      );
      expect(Number(hits[0]?.n), tablename).toBe(0);
    }
  });

  it('links a chat once: a second redeem is used, garbage is invalid', async () => {
    const officialCode = await newOfficial();
    const official = await db.official.findUniqueOrThrow({ where: { code: officialCode } });
    const { code } = await issueLinkCode(db, officialCode, {
      clock,
      random,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    const linked = await redeem('5001', code);
    expect(linked).toMatchObject({ kind: 'linked', officialId: official.id });
    const account = await db.channelAccount.findUniqueOrThrow({
      where: { channel_chatId: { channel: 'telegram', chatId: '5001' } },
    });
    expect(linked.kind === 'linked' && linked.accountId).toBe(account.id);
    expect(account).toMatchObject({ officialId: official.id, active: true });
    const stored = await db.linkCode.findUniqueOrThrow({
      where: { codeHash: hashLinkCode(code, TEST_LINK_CODE_KEYS.current) },
    });
    expect(stored.usedAt?.toISOString()).toBe(later(1).toISOString());
    expect(stored.usedBy).toBe('telegram:5001');

    expect(await redeem('5001', code)).toEqual({ kind: 'used' });
    expect(await redeem('5002', code)).toEqual({ kind: 'used' });
    expect(await db.channelAccount.count({ where: { chatId: '5002' } })).toBe(0);

    for (const garbage of [
      '',
      'hello',
      'ABCDEFGHJ',
      'ABCDEFGHJKM',
      '0000000000',
      'IIIIIIIIII',
      '22222 2222',
      'ABCDEFGHJK',
    ]) {
      expect(await redeem('5003', garbage), garbage).toEqual({ kind: 'invalid' });
    }
    expect(await db.channelAccount.count({ where: { chatId: '5003' } })).toBe(0);
  });

  it('refuses a code after its 72 hours', async () => {
    const officialCode = await newOfficial();
    const { code } = await issueLinkCode(db, officialCode, {
      clock,
      random,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    expect(await redeem('5101', code, later(73))).toEqual({ kind: 'expired' });
    expect(await redeem('5101', code, later(72))).toEqual({ kind: 'expired' });
    expect(await db.channelAccount.count({ where: { chatId: '5101' } })).toBe(0);
    const stored = await db.linkCode.findUniqueOrThrow({
      where: { codeHash: hashLinkCode(code, TEST_LINK_CODE_KEYS.current) },
    });
    expect(stored.usedAt).toBeNull();
  });

  it('accepts lower case, spaces and dashes', async () => {
    const variants = [
      (code: string) => code.toLowerCase(),
      (code: string) => `${code.slice(0, 5)} ${code.slice(5)}`,
      (code: string) => `${code.slice(0, 3)}-${code.slice(3, 6)}-${code.slice(6)}`,
      (code: string) => `  ${code.slice(0, 5).toLowerCase()} - ${code.slice(5)}  `,
    ];
    for (const [index, variant] of variants.entries()) {
      const officialCode = await newOfficial();
      const { code } = await issueLinkCode(db, officialCode, {
        clock,
        random,
        linkCodeKeys: TEST_LINK_CODE_KEYS,
      });
      const result = await redeem(`52${index}`, variant(code));
      expect(result.kind, variant(code)).toBe('linked');
    }
  });

  it('lets exactly one of two chats racing with one code win', async () => {
    for (let round = 0; round < 5; round += 1) {
      const officialCode = await newOfficial();
      const { code } = await issueLinkCode(db, officialCode, {
        clock,
        random,
        linkCodeKeys: TEST_LINK_CODE_KEYS,
      });
      const chats = [`53${round}1`, `53${round}2`];
      const results = await Promise.all(chats.map((chatId) => redeem(chatId, code)));
      const kinds = results.map((result) => result.kind).sort();
      expect(kinds).toEqual(['linked', 'used']);
      expect(await db.channelAccount.count({ where: { chatId: { in: chats } } })).toBe(1);
    }
  });

  it('moves a relinked chat to the new official, keeping one account row', async () => {
    const first = await newOfficial();
    const second = await newOfficial();
    const firstId = (await db.official.findUniqueOrThrow({ where: { code: first } })).id;
    const secondId = (await db.official.findUniqueOrThrow({ where: { code: second } })).id;
    const codeA = await issueLinkCode(db, first, { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS });
    const linkedA = await redeem('5401', codeA.code, later(1));
    expect(linkedA).toMatchObject({ kind: 'linked', officialId: firstId });
    // The account is deactivated meanwhile (the bot was blocked); relinking reactivates it.
    await db.channelAccount.update({
      where: { channel_chatId: { channel: 'telegram', chatId: '5401' } },
      data: { active: false, inactiveReason: 'blocked', deactivatedAt: later(2) },
    });
    const codeB = await issueLinkCode(db, second, { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS });
    const linkedB = await redeem('5401', codeB.code, later(3));
    expect(linkedB).toMatchObject({ kind: 'linked', officialId: secondId });
    const rows = await db.channelAccount.findMany({ where: { channel: 'telegram', chatId: '5401' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      officialId: secondId,
      active: true,
      inactiveReason: null,
      deactivatedAt: null,
    });
    expect(rows[0]?.linkedAt.toISOString()).toBe(later(3).toISOString());
    expect(linkedA.kind === 'linked' && linkedB.kind === 'linked' && linkedA.accountId).toBe(rows[0]?.id);
    expect(await db.channelAccount.count({ where: { officialId: firstId } })).toBe(0);
  });
});

describe('link codes under a server-side key', () => {
  const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
  let seq = 0;

  async function newOfficial(): Promise<string> {
    seq += 1;
    const code = `KEY-${seq}`;
    await upsertOfficial(db, code, { name: `Cán bộ khóa ${seq}`, unitCode: 'KEY-UNIT', role: 'focal' });
    return code;
  }

  const redeemWith = (keys: LinkCodeKeys, chatId: string, code: string, now = later(1)) =>
    db.$transaction((tx) =>
      redeemLinkCode(tx, { channel: 'telegram', chatId, code, now }, { ...redeemDeps, linkCodeKeys: keys }),
    );

  beforeAll(async () => {
    await upsertUnit(db, 'KEY-UNIT', { name: 'UBND xã Khóa' });
  });

  it('stores HMAC-SHA256 under the key: a copy of the table alone cannot be tried against all codes', async () => {
    const { code } = await issueLinkCode(db, await newOfficial(), {
      clock,
      random,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    const hashes = (await db.linkCode.findMany({ select: { codeHash: true } })).map((row) => row.codeHash);
    expect(hashes).toContain(createHmac('sha256', TEST_LINK_CODE_KEYS.current).update(code).digest('hex'));
    expect(hashes).not.toContain(sha256(code));
    // Another key (another deployment, or a guess at ours) does not find it.
    const otherKey = { current: randomBytes(32), previous: [] };
    expect(await redeemWith(otherKey, '6001', code)).toEqual({ kind: 'invalid' });
    expect(await db.channelAccount.count({ where: { chatId: '6001' } })).toBe(0);
  });

  it('redeems codes hashed with a previous key (a rotated SECRETS_KEY)', async () => {
    const old = { current: randomBytes(32), previous: [] };
    const { code } = await issueLinkCode(db, await newOfficial(), { clock, random, linkCodeKeys: old });
    const rotated = { current: randomBytes(32), previous: [old.current] };
    expect((await redeemWith(rotated, '6002', code)).kind).toBe('linked');
  });

  it('keeps codes stored as plain SHA-256 (before keys) working until they expire', async () => {
    const officialCode = await newOfficial();
    const official = await db.official.findUniqueOrThrow({ where: { code: officialCode } });
    const legacy = ['23456789AB', '3456789ABC'];
    for (const code of legacy)
      await db.linkCode.create({
        data: { officialId: official.id, codeHash: sha256(code), expiresAt: later(72) },
      });
    expect((await redeemWith(TEST_LINK_CODE_KEYS, '6003', legacy[0] ?? '')).kind).toBe('linked');
    expect(await redeemWith(TEST_LINK_CODE_KEYS, '6004', legacy[1] ?? '', later(73))).toEqual({
      kind: 'expired',
    });
  });
});
