import { afterEach, describe, expect, it } from 'vitest';
import {
  createSessionManager,
  type SessionManager,
  type SessionProvider,
  withSession,
} from '../src/index.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { createShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';
import { Browser, Clock, type Listening, listen } from './support/session-helpers.js';

// Issue 12, item 8: at capacity, a flood of new sessions must not evict the users who came back. Before the
// probation segment, eviction took the session closest to expiry, usually a real idle user: 1,500 anonymous
// requests at maxSessions 1,000 logged the user out.

type Data = { user: string; hits: number };

let server: Listening | undefined;
let manager: SessionManager<Data> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await manager?.close();
  manager = undefined;
});

const providers: [string, (clock: Clock) => SessionProvider][] = [
  ['memory', (clock) => createMemoryProvider({ maxSessions: 1000, now: clock.now, gcIntervalMs: 0 })],
  [
    'sharded',
    (clock) => createShardedProvider({ shards: 1, maxSessions: 1000, now: clock.now, gcIntervalMs: 0 }),
  ],
];

describe.each(providers)("a flood of new sessions at maxSessions ('%s')", (_name, make) => {
  it('1,500 anonymous requests do not log out a user who came back, and evict only flood sessions', async () => {
    const clock = new Clock();
    const provider = make(clock);
    manager = createSessionManager<Data>({ provider, idleTimeout: '30m', now: clock.now });
    server = await listen(
      withSession(manager, async (req, res, session) => {
        if (req.url === '/login') session.set('user', 'alice');
        else await session.incr('hits');
        res.end(session.get('user') ?? 'anonymous');
      }),
    );
    const alice = new Browser(server.url);
    expect(await alice.text('/login')).toBe('alice');
    clock.advance(60_000);
    expect(await alice.text('/')).toBe('alice'); // came back: her session was read again
    // She idles; her deadline is now the soonest of all. The flood: each request a new client.
    clock.advance(5 * 60_000);
    const url = server.url;
    for (let wave = 0; wave < 15; wave++) {
      await Promise.all(
        Array.from({ length: 100 }, async () => expect(await (await fetch(url)).text()).toBe('anonymous')),
      );
      clock.advance(100);
    }
    expect(await alice.text('/')).toBe('alice');
    const stats = await provider.stats();
    expect(stats.reduce((sum, s) => sum + s.evicted, 0)).toBe(501); // alice + 1,000 flood sessions held
    expect(await provider.count()).toBe(1000);
  });
});

describe('the eviction rule (SessionTable)', () => {
  const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 };

  it('evicts an expired session before any live one, then probation oldest first, then the soonest to expire', () => {
    const table = new SessionTable(resolveLimits({ maxSessions: 4 }));
    const expired = generateSid();
    table.init(expired, { idleTimeoutMs: 1000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    const [a, b] = [generateSid(), generateSid()];
    table.init(a, policy, undefined, 0);
    table.init(b, { idleTimeoutMs: 120_000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.read(a, 10); // a and b came back; a expires first
    table.read(b, 10);
    const young = generateSid();
    table.init(young, policy, undefined, 2000);
    // Full. The expired one goes first, even though `young` is on probation.
    table.init(generateSid(), policy, undefined, 2000);
    expect(table.counters).toMatchObject({ expired: 1, evicted: 0 });
    expect(table.read(young, 2000)).toBeDefined(); // now off probation too
    // Only the newest is on probation: each new one evicts the one before it; a, b and young stay.
    const flood = [generateSid(), generateSid(), generateSid()];
    for (const sid of flood) table.init(sid, policy, undefined, 3000);
    expect(table.counters.evicted).toBe(3);
    expect(flood.map((sid) => table.read(sid, 3000) !== undefined)).toEqual([false, false, true]);
    // Everyone was read: the soonest to expire (a, slid at 10 ms) is next.
    table.init(generateSid(), policy, undefined, 3000);
    expect(table.read(a, 3000)).toBeUndefined();
    expect(table.read(b, 3000)).toBeDefined();
    expect(table.onProbation).toBe(1);
  });

  it('a rename (regenerate at login) takes the session off probation', () => {
    const table = new SessionTable(resolveLimits({ maxSessions: 2 }));
    const [sid, renamed] = [generateSid(), generateSid()];
    table.init(sid, policy, undefined, 0);
    table.rename(sid, renamed, 0);
    for (let i = 0; i < 5; i++) table.init(generateSid(), policy, undefined, 1);
    expect(table.read(renamed, 2)).toBeDefined();
  });
});
