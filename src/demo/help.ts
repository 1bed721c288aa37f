import type { Config } from '../config.ts';
import { printableUrl } from '../startup.ts';

/** What a person starting the demo reads: where things are, the sample link codes, what to try. */
export function printDemoHelp(
  config: Config,
  emulatorUrl: string,
  address: string,
  codes: { code: string; name: string; role: string; linkCode: string }[],
): void {
  const token = config.telegram?.token ?? '';
  // A token the operator set is theirs to know: it is never printed, only referred to.
  const adminToken = config.adminTokenFromEnvironment ? '$ADMIN_API_TOKEN' : (config.adminApiToken ?? '');
  const lines = [
    '',
    '=== Demo mode: no TELEGRAM_BOT_TOKEN, so the bot talks to a local Telegram emulator ===',
    `Database: ${printableUrl(config.databaseUrl)} (the demo's own; set DATABASE_URL to use another empty one)`,
    `Emulator: ${emulatorUrl} (this machine only)   Service: ${address}   Admin API token: ${
      config.adminTokenFromEnvironment ? 'the ADMIN_API_TOKEN you set' : adminToken
    }`,
    'Sample data: UBND huyện Tam Đường, its departments and communes, and plan 01/KH-UBND (already launched).',
    'Link codes for the sample officials (single use, valid 72 h):',
    ...codes.map((c) => `  ${c.linkCode}  ${c.name} (${c.role}, ${c.code})`),
    '',
    `Or chat in a browser as any sample official: ${address}/demo`,
    'Talk to the bot as a user (chat 1001 here), then read its answers:',
    `  curl -s -XPOST ${emulatorUrl}/sendMessage -H 'content-type: application/json' \\`,
    `    -d '{"botToken":"${token}","from":{"id":1001,"first_name":"Demo"},"chat":{"id":1001,"type":"private"},"text":"/start ${codes[0]?.linkCode ?? 'CODE'}"}'`,
    `  curl -s -XPOST ${emulatorUrl}/getUpdates -H 'content-type: application/json' -d '{"token":"${token}","chatId":1001}'`,
    'Then try: /nhiemvu, /baocao, "đã xong", "đang triển khai 60%", "vướng kinh phí", /tonghop, /ngonngu, /huongdan.',
    `Admin API: curl -H "Authorization: Bearer ${adminToken}" ${address}/api/campaigns`,
    '',
    'A second sample organisation, after the 2025 reform: UBND tỉnh Lai Châu (LAICHAU), its departments and',
    'communes, no district level, and plan 02/KH-UBND. Merge two of its communes mid-campaign (their officials',
    'are told in chat, summaries show "(trước đây: …)", GET /api/units/LC-BANBO/history says where it went):',
    `  curl -XPOST -H "Authorization: Bearer ${adminToken}" -H 'content-type: application/json' \\`,
    `    ${address}/api/units/merge -d '{"from":["LC-BINHLU","LC-BANBO"],"into":{"code":"LC-BINHLU-MOI","name":"UBND xã Bình Lư (mới)"}}'`,
    '  or: npm run cli -- merge LC-BINHLU,LC-BANBO --into LC-BINHLU-MOI --name "UBND xã Bình Lư (mới)"',
    '',
    `Operator console: ${address}/console`,
    `  Sign in as the sample admin Lò Thị Hoa: first pick her on ${address}/demo (that links her chat),`,
    "  then type CB-ADMIN on the console's sign-in page: the 6-digit code and a one-tap link arrive in her",
    '  chat on the demo page. Or open "Sign in with the admin token" there and paste the admin API token.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
