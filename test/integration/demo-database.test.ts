import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { foreignData, refuseForeignDatabase } from '../../src/demo/demo.ts';
import { SAMPLE_OFFICIALS, SAMPLE_UNITS } from '../../src/demo/sample-data.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { onServer, withTestDb } from '../support/db.ts';
import { PG_SERVER_URL } from '../support/env.ts';

/** Demo mode takes only a database that is its own: empty, holding its sample data, or marked by it. */
let testDb: Awaited<ReturnType<typeof withTestDb>>;

beforeEach(async () => {
  testDb = await withTestDb();
});

afterEach(async () => {
  await testDb?.close();
});

const seedSample = async () => {
  for (const { code, ...unit } of SAMPLE_UNITS) await upsertUnit(testDb.db, code, unit);
  for (const { code, ...official } of SAMPLE_OFFICIALS) await upsertOfficial(testDb.db, code, official);
};

describe('a database for demo mode', () => {
  it('is taken when empty, or when it holds only the sample data', async () => {
    expect(await foreignData(testDb.database.url)).toEqual([]);
    await seedSample();
    expect(await foreignData(testDb.database.url)).toEqual([]);
  });

  it('is refused when it holds a real unit, official or campaign, or OA tokens, naming what', async () => {
    await seedSample();
    await testDb.db.unit.update({ where: { code: 'TD-BINHLU' }, data: { name: 'UBND xã Bình Lư (thật)' } });
    await upsertOfficial(testDb.db, 'CB-THAT', { name: 'Người thật', unitCode: 'TAMDUONG', role: 'focal' });
    await testDb.db.zaloOaToken.create({
      data: { appId: '1', accessToken: 'x', refreshToken: 'y', expiresAt: new Date() },
    });
    expect(await foreignData(testDb.database.url)).toEqual(['1 units', '1 officials', 'Zalo OA tokens']);
    const refusal = refuseForeignDatabase(testDb.database.url, true);
    await expect(refusal).rejects.toThrow(ConfigError);
    await expect(refuseForeignDatabase(testDb.database.url, true)).rejects.toThrow(
      /^Demo mode refuses database "[^"]+": it holds data that is not the demo's \(1 units, 1 officials, Zalo OA tokens\)\. Set TELEGRAM_BOT_TOKEN .* or unset DATABASE_URL to run the demo in its own database\.$/,
    );
  });

  it('is taken whatever it holds once demo mode marked it as its own', async () => {
    await upsertUnit(testDb.db, 'X-THEM', { name: 'Added through the demo admin API' });
    expect(await foreignData(testDb.database.url)).toEqual(['1 units']);
    await testDb.db.serviceSetting.create({ data: { key: 'demo', value: new Date().toISOString() } });
    expect(await foreignData(testDb.database.url)).toEqual([]);
  });

  it('is taken when it has no tables yet (created a moment ago)', async () => {
    const name = `${testDb.database.name}_bare`;
    await onServer((client) => client.query(`CREATE DATABASE "${name}"`));
    try {
      expect(await foreignData(`${PG_SERVER_URL}/${name}`)).toEqual([]);
    } finally {
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  });
});
