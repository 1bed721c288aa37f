import axios, { type AxiosInstance } from 'axios';
import type { Logger } from '../../logger.ts';

/** A network-level failure with the request's details (which hold tokens) left out, so it can be logged. */
export class ZaloNetworkError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly httpStatus: number | undefined,
  ) {
    super(message);
    this.name = 'ZaloNetworkError';
  }
}

export function zaloHttp(baseURL: string): AxiosInstance {
  // Zalo answers most errors with HTTP 200 and an error field: the body is read, never the status alone.
  return axios.create({ baseURL, validateStatus: () => true, timeout: 15_000 });
}

/** Rethrows an axios failure without its config (the URL carries the bot token, the headers the access token). */
export function networkError(error: unknown): Error {
  if (axios.isCancel(error)) return new ZaloNetworkError('request aborted', 'ERR_CANCELED', undefined);
  if (axios.isAxiosError(error)) {
    return new ZaloNetworkError(error.message, error.code, error.response?.status);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Zalo fetches a picture before it answers sendPhoto or an OA media message: a slow fetch takes a while. */
export const PHOTO_TIMEOUT_MS = 150_000;

/**
 * A send that Zalo answers only after fetching a picture. When it times out, Zalo may well have fetched and
 * delivered it: it is taken as sent (logged) rather than sent again, which could show the picture twice.
 */
export async function sentUnlessTimedOut(send: () => Promise<void>, logger: Logger): Promise<void> {
  try {
    await send();
  } catch (error) {
    if (!(error instanceof ZaloNetworkError) || error.code !== 'ECONNABORTED') throw error;
    logger.warn('a picture got no answer in time; taken as sent, not sent again');
  }
}
