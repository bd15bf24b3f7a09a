import type { ServerResponse } from 'node:http';
import { RetryableError } from '../errors.js';

/**
 * True for the failures that pass by themselves — the store's queue is full, a shard is restarting, an
 * external store is unreachable, this process is shutting down (its store closed: another instance behind
 * the balancer can answer) — which every adapter answers with 503 + Retry-After rather than 500.
 */
export function isRetryable(error: unknown): error is RetryableError {
  return error instanceof RetryableError;
}

/**
 * Answers a failed session operation on a bare node:http response: 503 with Retry-After for a failure that
 * passes by itself (see {@link isRetryable}), 500 otherwise. If the response already started, it can only
 * be cut short. Every adapter answers through this function.
 */
export function sendSessionError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const retryable = isRetryable(error);
  // A retryable error carries its answer (503, Retry-After), as the frameworks' error handlers read it.
  res.statusCode = retryable ? error.statusCode : 500;
  if (retryable) for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(retryable ? 'Service Unavailable: session store unavailable\n' : 'Internal Server Error\n');
}
