/**
 * The bench's first-visit pass (bench/harness/load.ts `visitEachCookieOnce`): before a run's windows, every
 * cookie of the load plan is sent once with GET /read, so the windows measure returning clients.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadPlan, visitEachCookieOnce } from '../bench/harness/load.js';

describe('visitEachCookieOnce', () => {
  const seen: Array<{ path: string | undefined; cookie: string | undefined }> = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url, cookie: req.headers.cookie });
    res.end('ok');
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends GET /read once with every cookie of every connection, whatever route the plan sends', async () => {
    seen.length = 0;
    const cookies = Array.from({ length: 12 }, (_, i) => `sid=c${i}`);
    // Three connections, four cookies each, on the route the window will load (here /incr).
    const plan: LoadPlan = {
      connections: 3,
      requestsFor: (index) =>
        cookies.slice(index * 4, index * 4 + 4).map((cookie) => ({ path: '/incr', cookie })),
    };
    await visitEachCookieOnce(url, plan);
    expect(seen.map((r) => r.path)).toEqual(Array(12).fill('/read'));
    expect(seen.map((r) => r.cookie).sort()).toEqual([...cookies].sort());
  });

  it('sends nothing for a plan without cookies (new-session makes its own)', async () => {
    seen.length = 0;
    await visitEachCookieOnce(url, { connections: 2, requestsFor: () => [{ path: '/new' }] });
    expect(seen).toEqual([]);
  });
});
