import { expect } from 'vitest';
import type { SessionManager } from '../../src/index.js';
import { withSession } from '../../src/index.js';
import { Browser, listen } from './session-helpers.js';

/** A promise and the function that settles it, for holding a request at a chosen point. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Two requests on one session that truly overlap: request A starts (its snapshot holds a=a0, b=b0) and is
 * held; request B sets b=B and its response completes (its commit went out before its headers); only then
 * is A released to set a=A. A delta of the changed keys keeps both changes; a flush of A's whole view would
 * put b back to the b0 that A read. Resolves what a third request reads afterwards.
 */
export async function overlappingWrites(manager: SessionManager): Promise<{ a: unknown; b: unknown }> {
  const aStarted = gate();
  const releaseA = gate();
  const server = await listen(
    withSession(manager, async (req, res, session) => {
      switch (req.url) {
        case '/init':
          session.set('a', 'a0');
          session.set('b', 'b0');
          break;
        case '/a':
          aStarted.open();
          await releaseA.promise;
          session.set('a', 'A');
          break;
        case '/b':
          session.set('b', 'B');
          break;
      }
      res.end(JSON.stringify({ a: session.get('a') ?? null, b: session.get('b') ?? null }));
    }),
  );
  try {
    const browser = new Browser(server.url);
    await (await browser.fetch('/init')).text();
    const a = browser.fetch('/a');
    await aStarted.promise; // A has read its snapshot
    expect(await (await browser.fetch('/b')).json()).toEqual({ a: 'a0', b: 'B' });
    releaseA.open();
    expect(await (await a).json()).toEqual({ a: 'A', b: 'b0' }); // A's own view: its snapshot plus its change
    return (await (await browser.fetch('/read')).json()) as { a: unknown; b: unknown };
  } finally {
    await server.close();
  }
}
