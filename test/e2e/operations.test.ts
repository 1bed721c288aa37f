import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { OFFICIAL_HEADER, UNIT_HEADER, workbook } from '../support/spreadsheets.ts';
import { Emulator } from '../support/telegram.ts';

/** Onboarding and operations through the running service: import, link-code sheets, bull-board, CLI. */
const TOKEN = '200000002:E2E-operations';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let emulator: Emulator;
let database: TestDatabase;
let service: ServiceProcess;
let dir: string;

beforeAll(async () => {
  emulator = await Emulator.start();
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
  });
  dir = await mkdtemp(join(tmpdir(), 'thidua-ops-'));
});

afterAll(async () => {
  await service?.stop();
  await emulator?.stop();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function send(
  path: string,
  init: { method?: string; body?: FormData | Uint8Array | string; type?: string; token?: string | null },
) {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? service.token}`;
  if (init.type) headers['content-type'] = init.type;
  return fetch(`${service.url}${path}`, { method: init.method ?? 'POST', headers, body: init.body ?? null });
}

function form(file: Buffer, name: string): FormData {
  const data = new FormData();
  data.append('file', new Blob([new Uint8Array(file)]), name);
  return data;
}

/** Runs a script as an operator would, with a deadline. */
async function script(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const cli = (...args: string[]) =>
  script(['scripts/cli.ts', ...args, '--url', service.url], { ADMIN_API_TOKEN: service.token });

describe('import over HTTP', () => {
  it('serves the template behind the token: two sheets, exact headers, frozen header row', async () => {
    expect((await send('/api/import/template.xlsx', { method: 'GET', token: null })).status).toBe(401);
    const response = await send('/api/import/template.xlsx', { method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(XLSX);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await response.arrayBuffer());
    expect(book.worksheets.map((sheet) => sheet.name)).toEqual(['Đơn vị', 'Cán bộ']);
    const units = book.getWorksheet('Đơn vị');
    const officials = book.getWorksheet('Cán bộ');
    expect(units?.getRow(1).values).toEqual([undefined, ...UNIT_HEADER]);
    expect(officials?.getRow(1).values).toEqual([undefined, ...OFFICIAL_HEADER]);
    expect(units?.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(units?.getRow(2).getCell(1).value).toBe('TD-BINHLU');
    expect(officials?.getRow(2).getCell(1).value).toBe('CB-BINHLU');

    // The template imports as it is once its parent unit exists.
    expect((await service.api('PUT', '/api/units/TAMDUONG', { name: 'UBND huyện Tam Đường' })).status).toBe(
      200,
    );
    const imported = await send('/api/import', {
      body: form(Buffer.from(await book.xlsx.writeBuffer()), 'mau.xlsx'),
    });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({ units: { created: 1 }, officials: { created: 1 } });
  });

  it('takes a multipart XLSX and a raw CSV body; the same file again changes nothing', async () => {
    const file = await workbook({
      'Đơn vị': [
        UNIT_HEADER,
        ['TD-SONBINH', 'UBND xã Sơn Bình', 'TAMDUONG', null],
        ['TD-VHTT', 'Phòng Văn hóa và Thông tin', 'TAMDUONG', null],
      ],
      'Cán bộ': [
        OFFICIAL_HEADER,
        ['CB-SONBINH', 'Chảo Văn Minh', 'TD-SONBINH', 'đầu mối', null],
        ['CB-VHTT', 'Trần Thị Mai', 'TD-VHTT', 'đầu mối', null],
        ['CB-CHUTICH', 'Sùng Lữ Páo', 'TAMDUONG', 'lãnh đạo', null],
      ],
    });
    const first = await send('/api/import', { body: form(file, 'to-chuc.xlsx') });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      dryRun: false,
      units: { created: 2, updated: 0, unchanged: 0 },
      officials: { created: 3, updated: 0, unchanged: 0 },
    });
    const again = await send('/api/import', { body: new Uint8Array(file), type: XLSX });
    expect(await again.json()).toMatchObject({
      units: { created: 0, updated: 0, unchanged: 2 },
      officials: { created: 0, updated: 0, unchanged: 3 },
    });
    const csv = `\ufeff${OFFICIAL_HEADER.join(',')}\r\nCB-SONBINH-CV,Đỗ Thị Lan,TD-SONBINH,thành viên,0912345678\r\n`;
    const raw = await send('/api/import?dryRun=true', { body: csv, type: 'text/csv' });
    expect(await raw.json()).toMatchObject({ dryRun: true, officials: { created: 1 } });
    const applied = await send('/api/import', { body: csv, type: 'text/csv; charset=utf-8' });
    expect(await applied.json()).toMatchObject({ dryRun: false, officials: { created: 1 } });
  });

  it('answers 400 with row errors and for non-spreadsheets, and applies nothing', async () => {
    const bad = await send('/api/import', {
      body: `${UNIT_HEADER.join(',')}\nTD-X,Xã X,KHONG-CO,\n`,
      type: 'text/csv',
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; details: { errors: unknown[] } } };
    expect(body.error.code).toBe('import_invalid');
    expect(body.error.details.errors).toEqual([
      expect.objectContaining({ sheet: 'CSV', row: 2, code: 'unknown_parent' }),
    ]);
    expect(
      (await service.api('PUT', '/api/officials/X', { name: 'X', unitCode: 'TD-X', role: 'member' })).status,
    ).toBe(400);

    const notSheet = await send('/api/import', {
      body: new Uint8Array([0x25, 0x50, 0x44, 0x46, 0, 1, 2, 3]),
      type: 'application/octet-stream',
    });
    expect(notSheet.status).toBe(400);
    expect(((await notSheet.json()) as { error: { code: string } }).error.code).toBe('not_a_spreadsheet');

    const json = await send('/api/import', { body: '{}', type: 'application/json' });
    expect(json.status).toBe(400);
    expect((await send('/api/import', { body: 'x', type: 'text/csv', token: null })).status).toBe(401);
  });
});

describe('link-code sheets', () => {
  it('answers a workbook of fresh codes, deep links and QR images for a subtree; a code links a chat', async () => {
    expect((await send('/api/units/TAMDUONG/link-codes', { token: null })).status).toBe(401);
    expect((await send('/api/units/NOWHERE/link-codes', {})).status).toBe(404);
    const response = await send('/api/units/TAMDUONG/link-codes', {});
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(XLSX);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await response.arrayBuffer());
    const sheet = book.worksheets[0];
    if (!sheet) throw new Error('no sheet');
    const rows: { name: string; code: string; link: string }[] = [];
    sheet.eachRow((row, number) => {
      if (number === 1) return;
      const link = row.getCell(6).value as { hyperlink: string };
      rows.push({
        name: row.getCell(1).text,
        code: row.getCell(5).text,
        link: link.hyperlink,
      });
    });
    expect(rows.map((row) => row.name).sort()).toEqual(
      ['Chảo Văn Minh', 'Đỗ Thị Lan', 'Sùng Lữ Páo', 'Trần Thị Mai', 'Tẩn Văn Chiến'].sort(),
    );
    for (const row of rows) expect(row.link).toBe(`https://t.me/TestNameBot?start=${row.code}`);
    expect(sheet.getImages()).toHaveLength(rows.length);

    const user = emulator.user(TOKEN, 5101);
    const mai = rows.find((row) => row.name === 'Trần Thị Mai');
    await user.ask(`/start ${mai?.code ?? ''}`, (message) => message.text.includes('Đã liên kết'));
  });

  it('answers a printable HTML page with PNG QR codes, filtered by role and by not yet linked', async () => {
    const response = await send(
      '/api/units/TAMDUONG/link-codes?format=html&roles=focal,leader&unlinked=true',
      {},
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('Chảo Văn Minh');
    expect(html).toContain('Sùng Lữ Páo');
    expect(html).not.toContain('Đỗ Thị Lan'); // a member
    expect(html).not.toContain('Trần Thị Mai'); // linked above
    expect(html.match(/src="data:image\/png;base64,/g)).toHaveLength(3);
    expect(html).toMatch(/https:\/\/t\.me\/TestNameBot\?start=[A-Z0-9]{10}/);
    const none = await send('/api/units/TD-VHTT/link-codes?unlinked=true', {});
    expect(none.status).toBe(400);
  });
});

describe('bull-board', () => {
  it('is behind the admin token (bearer or the password of Basic auth)', async () => {
    expect((await fetch(`${service.url}/admin/queues`)).status).toBe(401);
    expect((await send('/admin/queues', { method: 'GET', token: 'wrong' })).status).toBe(401);
    const page = await send('/admin/queues', { method: 'GET' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const basic = Buffer.from(`admin:${service.token}`).toString('base64');
    const api = await fetch(`${service.url}/admin/queues/api/queues`, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((queue) => queue.name);
    expect(names).toEqual(expect.arrayContaining(['deliver-telegram', 'jobs']));
  });
});

describe('operator scripts', () => {
  // Each call starts a process (tsx), a second or more apiece under load: a longer bound than the default.
  it('npm run cli: campaigns, launch, summary, jobs, link codes, import', { timeout: 120_000 }, async () => {
    const created = await service.api<{ id: string }>('POST', '/api/campaigns', {
      docNumber: '07/KH-UBND',
      title: 'Thi đua chào mừng',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2027-10-30',
      unitCodes: ['TD-VHTT', 'TD-SONBINH'],
      tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-07-15' }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id;

    const list = await cli('campaigns');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('07/KH-UBND');
    const launched = await cli('launch', id);
    expect(launched.code, launched.stderr).toBe(0);
    expect(JSON.parse(launched.stdout)).toMatchObject({ recipients: expect.any(Number) as number });
    const summary = await cli('summary', id, '--unit', 'TD-VHTT');
    expect(JSON.parse(summary.stdout)).toMatchObject({ units: { total: 1 } });
    const jobs = await cli('jobs');
    expect(jobs.code, jobs.stderr).toBe(0);
    const out = join(dir, 'codes.html');
    const sheet = await cli('link-codes', 'TAMDUONG', '--format', 'html', '--out', out);
    expect(sheet.code, sheet.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('Sùng Lữ Páo');
    const csv = join(dir, 'units.csv');
    await writeFile(csv, `${UNIT_HEADER.join(',')}\nTD-TT,UBND thị trấn Tam Đường,TAMDUONG,\n`);
    const imported = await cli('import', csv);
    expect(JSON.parse(imported.stdout)).toMatchObject({ units: { created: 1 } });
    const refused = await cli('launch', '00000000-0000-0000-0000-000000000000');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('404');
    const noToken = await script(['scripts/cli.ts', 'campaigns', '--url', service.url, '--token', 'wrong']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('401');
  });

  it(
    'npm run import: the same import against DATABASE_URL, with row errors on stderr',
    { timeout: 120_000 },
    async () => {
      const good = join(dir, 'good.csv');
      await writeFile(good, `${UNIT_HEADER.join(';')}\nTD-BANGIANG;UBND xã Bản Giang;TAMDUONG;\n`);
      const env = { DATABASE_URL: database.url, TELEGRAM_BOT_TOKEN: TOKEN };
      const dry = await script(['scripts/import.ts', good, '--dry-run'], env);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('units: 1 created');
      const done = await script(['scripts/import.ts', good], env);
      expect(done.stdout).toContain('units: 1 created');
      const again = await script(['scripts/import.ts', good], env);
      expect(again.stdout).toContain('units: 0 created, 0 updated, 1 unchanged');
      const bad = join(dir, 'bad.csv');
      await writeFile(bad, `${OFFICIAL_HEADER.join(',')}\nCB-Z,Người Z,TD-BANGIANG,trưởng thôn,\n`);
      const refused = await script(['scripts/import.ts', bad], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('CSV row 2');
      expect(refused.stderr).toContain('trưởng thôn');
    },
  );
});
