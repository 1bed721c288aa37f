import { expect } from 'vitest';
import type { ServiceProcess } from './service.ts';
import type { ChatUser, Emulator } from './telegram.ts';

/**
 * Seeding a running service through its admin API, as an operator would, for the end-to-end tests.
 * Each call must succeed: a refused seed would make every later assertion fail for the wrong reason.
 */

export interface UnitSeed {
  code: string;
  name: string;
  parentCode?: string;
  [field: string]: unknown;
}

export interface OfficialSeed {
  code: string;
  name: string;
  unitCode: string;
  role: string;
  [field: string]: unknown;
}

/** Matches a message (Telegram or Zalo OA) whose text contains `fragment`. */
export const hasText = (fragment: string) => (message: { text: string }) => message.text.includes(fragment);

/** Creates or replaces the units in order, so a parent listed first exists before its children. */
export async function putUnits(service: ServiceProcess, units: readonly UnitSeed[]): Promise<void> {
  for (const { code, ...body } of units) {
    expect((await service.api('PUT', `/api/units/${code}`, body)).status, `PUT /api/units/${code}`).toBe(200);
  }
}

export async function putOfficials(
  service: ServiceProcess,
  officials: readonly OfficialSeed[],
): Promise<void> {
  for (const { code, ...body } of officials) {
    expect(
      (await service.api('PUT', `/api/officials/${code}`, body)).status,
      `PUT /api/officials/${code}`,
    ).toBe(200);
  }
}

/** Issues a one-time link code for the official and redeems it from a fresh Telegram chat. */
export async function linkTelegramUser(
  service: ServiceProcess,
  emulator: Emulator,
  token: string,
  officialCode: string,
  userId: number,
): Promise<ChatUser> {
  const issued = await service.api<{ code: string }>('POST', `/api/officials/${officialCode}/link-codes`);
  expect(issued.status).toBe(201);
  const user = emulator.user(token, userId);
  await user.ask(`/start ${issued.body.code}`, hasText('Đã liên kết'));
  return user;
}

/** Creates a campaign and launches it at once; returns its id. */
export async function launchCampaign(service: ServiceProcess, campaign: object): Promise<string> {
  const created = await service.api<{ id: string }>('POST', '/api/campaigns', campaign);
  expect(created.status).toBe(201);
  expect((await service.api('POST', `/api/campaigns/${created.body.id}/launch`)).status).toBe(202);
  return created.body.id;
}
