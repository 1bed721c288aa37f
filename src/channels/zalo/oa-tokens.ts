import { createHash } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../../logger.ts';
import { ReadinessProblem } from '../../readiness.ts';
import { SecretBox } from '../../secret-box.ts';
import { networkError, zaloHttp } from './http.ts';

export interface OaTokenOptions {
  db: Db;
  appId: string;
  /** The app's secret key (Zalo for Developers → app settings), sent as the `secret_key` header. */
  appSecret: string;
  oauthRoot: string;
  /** The first tokens, from the environment; newer ones live in PostgreSQL. */
  seed: { accessToken: string | undefined; refreshToken: string };
  /** Seals the tokens kept in PostgreSQL (SECRETS_KEY); opens those sealed with a previous key too. */
  box: SecretBox;
  logger: Logger;
  now?: () => Date;
  /** Refresh when the access token has less than this left. */
  marginMs?: number;
  /** After a failed refresh, try again at most this often. */
  retryFailedAfterMs?: number;
  /** Called once per failure (the moment the token goes from healthy to failed). */
  onFailure?: (reason: string) => void;
}

/** No usable access token: the refresh failed (see lastError) or none was ever given. */
export class OaTokenUnavailable extends Error {
  constructor(reason: string) {
    super(`Zalo OA access token unavailable: ${reason}`);
    this.name = 'OaTokenUnavailable';
  }
}

interface TokenRow {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  failedAt: Date | null;
  lastError: string | null;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

type Column = 'accessToken' | 'refreshToken';

/**
 * The OA's access token (about 25 h) and its single-use refresh token (about 3 months), kept in
 * PostgreSQL. A refresh runs under the row's lock (SELECT … FOR UPDATE), re-reads the row, refreshes only
 * if nobody else has meanwhile, and commits the new pair before anyone uses it: two instances never
 * spend the same refresh token.
 */
export class OaTokenStore {
  private readonly http: AxiosInstance;
  private readonly now: () => Date;
  private seeded: Promise<void> | undefined;

  constructor(private readonly options: OaTokenOptions) {
    this.http = zaloHttp(options.oauthRoot);
    this.now = options.now ?? (() => new Date());
  }

  private get marginMs(): number {
    return this.options.marginMs ?? 60 * 60_000;
  }

  /**
   * Stores the environment's tokens unless they were stored before: new tokens pasted into the
   * environment (after a failure) replace the stored pair; a restart with the same ones keeps the newer pair.
   */
  async seed(): Promise<void> {
    const { accessToken, refreshToken } = this.options.seed;
    // Its age is unknown, so an access token from the environment is refreshed at first use.
    await this.options.db.$executeRaw`
      INSERT INTO "ZaloOaToken" ("appId", "accessToken", "refreshToken", "expiresAt", "seededFrom", "updatedAt")
      VALUES (${this.options.appId}, ${this.seal('accessToken', accessToken ?? '')},
        ${this.seal('refreshToken', refreshToken)}, ${this.now()}, ${sha256(refreshToken)}, now())
      ON CONFLICT ("appId") DO UPDATE SET
        "accessToken" = EXCLUDED."accessToken", "refreshToken" = EXCLUDED."refreshToken",
        "expiresAt" = EXCLUDED."expiresAt", "seededFrom" = EXCLUDED."seededFrom",
        "failedAt" = NULL, "lastError" = NULL, "updatedAt" = now()
      WHERE "ZaloOaToken"."seededFrom" IS DISTINCT FROM EXCLUDED."seededFrom"`;
    await this.resealStored();
  }

  /** The authenticated context of a sealed token: its column and app, so values cannot be swapped. */
  private seal(column: Column, plain: string): string {
    return this.options.box.seal(plain, `ZaloOaToken.${column}:${this.options.appId}`);
  }

  /** A stored token in the clear; `stale` when it was kept in the clear or under a previous key. */
  private open(column: Column, stored: string): { plain: string; stale: boolean } {
    if (!SecretBox.isSealed(stored)) return { plain: stored, stale: true };
    return this.options.box.open(stored, `ZaloOaToken.${column}:${this.options.appId}`);
  }

  /**
   * Seals a pair stored in the clear (before SECRETS_KEY) or under SECRETS_KEY_PREVIOUS with the current key,
   * under the row's lock. Throws when no configured key opens it (start-up says so).
   */
  private async resealStored(): Promise<void> {
    await this.options.db.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<Pick<TokenRow, Column>[]>`
        SELECT "accessToken", "refreshToken" FROM "ZaloOaToken" WHERE "appId" = ${this.options.appId} FOR UPDATE`;
      if (!row) return;
      const access = this.open('accessToken', row.accessToken);
      const refresh = this.open('refreshToken', row.refreshToken);
      if (!access.stale && !refresh.stale) return;
      await tx.zaloOaToken.update({
        where: { appId: this.options.appId },
        data: {
          accessToken: this.seal('accessToken', access.plain),
          refreshToken: this.seal('refreshToken', refresh.plain),
        },
      });
    });
  }

  /** Stores the environment's pair if new and seals what is stored (once per process; start-up awaits it). */
  prepare(): Promise<void> {
    this.seeded ??= this.seed().catch((error: unknown) => {
      this.seeded = undefined;
      throw error;
    });
    return this.seeded;
  }

  private async read(): Promise<TokenRow> {
    await this.prepare();
    const row = await this.options.db.zaloOaToken.findUnique({ where: { appId: this.options.appId } });
    if (!row) throw new OaTokenUnavailable('no tokens stored');
    return this.opened(row);
  }

  private opened<R extends TokenRow>(row: R): R {
    return {
      ...row,
      accessToken: this.open('accessToken', row.accessToken).plain,
      refreshToken: this.open('refreshToken', row.refreshToken).plain,
    };
  }

  /** A usable access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const row = await this.read();
    const left = row.expiresAt.getTime() - this.now().getTime();
    if (
      row.failedAt &&
      this.now().getTime() - row.failedAt.getTime() < (this.options.retryFailedAfterMs ?? 5 * 60_000)
    )
      throw new OaTokenUnavailable(row.lastError ?? 'refresh failed');
    if (row.accessToken !== '' && left > this.marginMs && !row.failedAt) return row.accessToken;
    return this.refresh();
  }

  /**
   * Refreshes under the row lock. With `stale` (a token Zalo just refused), only when the stored token is
   * still that one; without, only when the stored one is about to expire. Either way a refresh that
   * another instance did while we waited for the lock is simply used.
   */
  async refresh(stale?: string): Promise<string> {
    type Outcome = { token: string; refreshed: boolean } | { error: string; first: boolean };
    const outcome = await this.options.db.$transaction(
      async (tx): Promise<Outcome> => {
        const rows = await tx.$queryRaw<TokenRow[]>`
          SELECT "accessToken", "refreshToken", "expiresAt", "failedAt", "lastError"
          FROM "ZaloOaToken" WHERE "appId" = ${this.options.appId} FOR UPDATE`;
        const row = rows[0] && this.opened(rows[0]);
        if (!row) return { error: 'no tokens stored', first: false };
        const fresh =
          row.accessToken !== '' &&
          !row.failedAt &&
          (stale !== undefined
            ? row.accessToken !== stale
            : row.expiresAt.getTime() - this.now().getTime() > this.marginMs);
        if (fresh) return { token: row.accessToken, refreshed: false };
        const answer = await this.callOauth(row.refreshToken);
        if ('error' in answer) {
          await tx.zaloOaToken.update({
            where: { appId: this.options.appId },
            data: { failedAt: this.now(), lastError: answer.error.slice(0, 500) },
          });
          return { error: answer.error, first: row.failedAt === null };
        }
        // Committed before anyone uses it: the old refresh token is spent from now on.
        await tx.zaloOaToken.update({
          where: { appId: this.options.appId },
          data: {
            accessToken: this.seal('accessToken', answer.accessToken),
            refreshToken: this.seal('refreshToken', answer.refreshToken),
            expiresAt: new Date(this.now().getTime() + answer.expiresInMs),
            refreshedAt: this.now(),
            failedAt: null,
            lastError: null,
          },
        });
        return { token: answer.accessToken, refreshed: true };
      },
      { timeout: 30_000, maxWait: 30_000 },
    );
    if ('token' in outcome) {
      if (outcome.refreshed) this.options.logger.info('zalo oa access token refreshed');
      return outcome.token;
    }
    this.options.logger.error({ reason: outcome.error }, 'zalo oa token refresh failed');
    if (outcome.first) this.options.onFailure?.(outcome.error);
    throw new OaTokenUnavailable(outcome.error);
  }

  private async callOauth(
    refreshToken: string,
  ): Promise<{ accessToken: string; refreshToken: string; expiresInMs: number } | { error: string }> {
    if (refreshToken === '') return { error: 'no refresh token' };
    let data: unknown;
    try {
      const response = await this.http.post<unknown>(
        '/v4/oa/access_token',
        new URLSearchParams({
          refresh_token: refreshToken,
          app_id: this.options.appId,
          grant_type: 'refresh_token',
        }).toString(),
        {
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            secret_key: this.options.appSecret,
          },
        },
      );
      data = response.data;
    } catch (error) {
      return { error: networkError(error).message };
    }
    // Success only when both tokens are there: failures come as HTTP 200 with an error, or empty.
    const body = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const access = body.access_token;
    const refresh = body.refresh_token;
    if (typeof access === 'string' && access !== '' && typeof refresh === 'string' && refresh !== '') {
      const seconds = Number(body.expires_in);
      return {
        accessToken: access,
        refreshToken: refresh,
        expiresInMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : 90_000) * 1000,
      };
    }
    const name =
      typeof body.error_name === 'string'
        ? body.error_name
        : typeof body.message === 'string'
          ? body.message
          : 'empty answer';
    const code = typeof body.error === 'number' || typeof body.error === 'string' ? String(body.error) : '';
    return { error: `${code} ${name}`.trim() };
  }

  /** Throws while the last refresh has failed (the readiness check; the reason is in the logs). */
  async health(): Promise<void> {
    const row = await this.read();
    if (row.failedAt) throw new ReadinessProblem('token refresh failed');
  }
}
