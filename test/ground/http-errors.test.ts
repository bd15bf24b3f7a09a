import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  InvalidArgumentError,
  OverloadedError,
  RETRY_AFTER_SECONDS,
  SessionError,
  ShardUnavailableError,
  StorageError,
  StoreUnavailableError,
} from '../../src/errors.js';
import { isRetryable, sendSessionError } from '../../src/http/errors.js';
import { type Listening, listen } from '../support/session-helpers.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A real server that answers every request with `sendSessionError(error)`. */
async function failingWith(error: unknown): Promise<string> {
  server = await listen((_req, res) => sendSessionError(res, error));
  return server.url;
}

describe('HTTP answers to a failed session operation', () => {
  it.each([
    new OverloadedError(),
    new ShardUnavailableError(),
    new StoreUnavailableError(),
    new ClosedError(),
  ])('answers %o with 503, Retry-After and no caching', async (error) => {
    expect(isRetryable(error)).toBe(true);
    const response = await fetch(await failingWith(error));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    expect(RETRY_AFTER_SECONDS).toBe(1);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('Service Unavailable: session store unavailable\n');
  });

  it.each([
    new InvalidArgumentError('bad'),
    new StorageError('disk'),
    new SessionError('ERR_X', 'x'),
    new Error('plain'),
    'a string',
    undefined,
  ])('answers %o with 500, without Retry-After, saying nothing of the error', async (error) => {
    expect(isRetryable(error)).toBe(false);
    const response = await fetch(await failingWith(error));
    expect(response.status).toBe(500);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('Internal Server Error\n');
  });

  it('cuts a response that already started short instead of writing a second status', async () => {
    for (const error of [new OverloadedError(), 'not an Error']) {
      server = await listen((_req, res) => {
        res.write('partial body');
        // On the next turn: the status line and the first chunk are on the wire by then.
        setImmediate(() => sendSessionError(res, error));
      });
      const outcome = await fetch(server.url).then(
        async (response) => ({
          status: response.status,
          body: await response.text().then(
            () => 'complete',
            () => 'cut',
          ),
        }),
        () => ({ status: 0, body: 'cut' }),
      );
      expect(outcome.body).toBe('cut');
      expect([0, 200]).toContain(outcome.status);
      await server.close();
      server = undefined;
    }
  });
});
