// The operator's everyday tasks over the admin API, without curl: npm run cli -- <command> [options].
// Talks to a running service (--url, default http://127.0.0.1:3000) with ADMIN_API_TOKEN (or --token).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.ts';

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  campaigns                          list campaigns
  campaign ID                        one campaign
  launch ID                          launch a campaign (sends nothing twice)
  summary ID [--unit CODE]           summary of a campaign (optionally of a unit's subtree)
  jobs                               the scheduled jobs, their last and next runs
  run-job NAME [--at ISO] [--dry-run]  run a scheduled job now (or as of --at)
  link-code OFFICIAL                 a link code for one official
  link-codes UNIT [--format xlsx|html] [--out FILE] [--roles focal,leader] [--unlinked]
                                     link codes for every official of a unit's subtree, saved to FILE
  import FILE [--dry-run]            import units and officials from an XLSX or CSV file
  merge CODE,CODE… --into CODE [--name NAME] [--parent CODE] [--effective YYYY-MM-DD]
                                     merge units into one (a new unit, or an existing one)
  dissolve UNIT [--effective YYYY-MM-DD]  remove a level: its children and officials go to its parent
  history UNIT                       a unit's renames, moves and merges, oldest first

options:
  --url URL      the service [http://127.0.0.1:3000]
  --token TOKEN  the admin token [ADMIN_API_TOKEN]
  --json         print answers as JSON
`;

class CliError extends Error {}

interface Options {
  url: string;
  token: string;
  json: boolean;
}

async function call(
  options: Options,
  method: string,
  path: string,
  body?: { json: unknown } | { raw: Buffer },
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
  let payload: string | Uint8Array | undefined;
  if (body && 'json' in body) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body) {
    headers['content-type'] = 'application/octet-stream';
    payload = new Uint8Array(body.raw);
  }
  let response: Response;
  try {
    response = await fetch(`${options.url.replace(/\/+$/, '')}${path}`, { method, headers, body: payload });
  } catch (error) {
    throw new CliError(`cannot reach ${options.url}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      const parsed = JSON.parse(text) as {
        error?: {
          code: string;
          message: string;
          details?: { errors?: { sheet: string; row: number; message: string }[] };
        };
      };
      if (parsed.error) {
        message = `${parsed.error.code}: ${parsed.error.message}`;
        for (const row of parsed.error.details?.errors ?? [])
          message += `\n  ${row.sheet} row ${row.row}: ${row.message}`;
      }
    } catch {
      // not JSON: show it as it is
    }
    throw new CliError(`${method} ${path} -> ${response.status}\n${message}`);
  }
  return response;
}

const json = async (response: Response): Promise<unknown> => response.json();
const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
const enc = encodeURIComponent;

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`missing ${what}\n\n${USAGE}`);
  return value;
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      unit: { type: 'string' },
      at: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      format: { type: 'string', default: 'xlsx' },
      out: { type: 'string' },
      roles: { type: 'string' },
      unlinked: { type: 'boolean', default: false },
      into: { type: 'string' },
      name: { type: 'string' },
      parent: { type: 'string' },
      effective: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, arg] = positionals;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const token = values.token ?? loadConfig(process.env).adminApiToken;
  if (!token) throw new CliError('no admin token: set ADMIN_API_TOKEN or pass --token');
  const options: Options = { url: values.url, token, json: values.json };

  switch (command) {
    case 'campaigns': {
      const campaigns = (await json(await call(options, 'GET', '/api/campaigns'))) as {
        id: string;
        docNumber: string;
        state: string;
        title: string;
      }[];
      if (options.json) return print(campaigns);
      if (campaigns.length === 0) process.stdout.write('no campaigns\n');
      for (const c of campaigns) process.stdout.write(`${c.id}  ${c.docNumber}  [${c.state}]  ${c.title}\n`);
      return;
    }
    case 'campaign':
      return print(await json(await call(options, 'GET', `/api/campaigns/${enc(need(arg, 'ID'))}`)));
    case 'launch':
      return print(await json(await call(options, 'POST', `/api/campaigns/${enc(need(arg, 'ID'))}/launch`)));
    case 'summary': {
      const query = values.unit ? `?unit=${enc(values.unit)}` : '';
      return print(
        await json(await call(options, 'GET', `/api/campaigns/${enc(need(arg, 'ID'))}/summary${query}`)),
      );
    }
    case 'jobs':
      return print(await json(await call(options, 'GET', '/api/jobs')));
    case 'run-job': {
      const body = { ...(values.at ? { at: values.at } : {}), dryRun: values['dry-run'] };
      return print(
        await json(await call(options, 'POST', `/api/jobs/${enc(need(arg, 'NAME'))}/run`, { json: body })),
      );
    }
    case 'link-code':
      return print(
        await json(await call(options, 'POST', `/api/officials/${enc(need(arg, 'OFFICIAL'))}/link-codes`)),
      );
    case 'link-codes': {
      const unit = need(arg, 'UNIT');
      const format = values.format === 'html' ? 'html' : 'xlsx';
      const query = new URLSearchParams({ format });
      if (values.roles) query.set('roles', values.roles);
      if (values.unlinked) query.set('unlinked', 'true');
      const response = await call(options, 'POST', `/api/units/${enc(unit)}/link-codes?${query.toString()}`);
      const out = values.out ?? `ma-lien-ket-${unit.replace(/[^A-Za-z0-9_-]/g, '_')}.${format}`;
      await writeFile(out, Buffer.from(await response.arrayBuffer()));
      process.stdout.write(`${out}\n`);
      return;
    }
    case 'import': {
      const file = await readFile(need(arg, 'FILE'));
      const query = values['dry-run'] ? '?dryRun=true' : '';
      return print(await json(await call(options, 'POST', `/api/import${query}`, { raw: file })));
    }
    case 'merge': {
      const body = {
        from: need(arg, 'CODE,CODE…')
          .split(',')
          .map((code) => code.trim()),
        into: {
          code: need(values.into, '--into CODE'),
          ...(values.name ? { name: values.name } : {}),
          ...(values.parent ? { parentCode: values.parent } : {}),
        },
        ...(values.effective ? { effectiveOn: values.effective } : {}),
      };
      return print(await json(await call(options, 'POST', '/api/units/merge', { json: body })));
    }
    case 'dissolve': {
      const body = values.effective ? { effectiveOn: values.effective } : {};
      return print(
        await json(
          await call(options, 'POST', `/api/units/${enc(need(arg, 'UNIT'))}/dissolve`, { json: body }),
        ),
      );
    }
    case 'history':
      return print(await json(await call(options, 'GET', `/api/units/${enc(need(arg, 'UNIT'))}/history`)));
    default:
      throw new CliError(`unknown command ${command}\n\n${USAGE}`);
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof CliError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
