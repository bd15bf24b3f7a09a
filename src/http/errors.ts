import type { ServerResponse } from 'node:http';
import { OverloadedError } from '../errors.js';

/** Seconds a client is asked to wait after a 503 from an overloaded store. */
export const RETRY_AFTER_SECONDS = 1;

/** True for the store's overload error, which every adapter answers with 503 + Retry-After. */
export function isOverloaded(error: unknown): boolean {
  return error instanceof OverloadedError;
}

/**
 * Answers a failed session operation on a bare node:http response: 503 with Retry-After for overload, 500
 * otherwise. If the response already started, it can only be cut short.
 */
export function sendSessionError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const overloaded = isOverloaded(error);
  res.statusCode = overloaded ? 503 : 500;
  if (overloaded) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(overloaded ? 'Service Unavailable: session store overloaded\n' : 'Internal Server Error\n');
}
