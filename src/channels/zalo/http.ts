import axios, { type AxiosInstance } from 'axios';

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
