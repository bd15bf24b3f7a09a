import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent, SessionManager } from '../../src/index.js';
import { dropSchema, testPool } from '../support/postgres.js';
import { Browser, Clock, type Listening, listen } from '../support/session-helpers.js';
import { POSTGRES_SCHEMA, PROVIDERS, userApp, userManager } from './app.js';

const DAY = 86_400_000;

afterAll(async () => {
  const pool = testPool(1);
  await dropSchema(pool, POSTGRES_SCHEMA);
  await pool.end();
});

describe.each(PROVIDERS)("a user's sessions ($name)", (choice) => {
  let manager: SessionManager;
  let server: Listening;
  let clock: Clock;

  async function start(): Promise<void> {
    clock = new Clock(Date.now());
    manager = userManager(choice, clock);
    server = await listen(userApp(manager));
  }

  afterEach(async () => {
    await server?.close();
    await manager?.close();
  });

  async function login(user: string, query = ''): Promise<{ browser: Browser; handle: string; id: string }> {
    const browser = new Browser(server.url);
    const body = (await (await browser.fetch(`/login?user=${user}${query}`)).json()) as {
      handle: string;
      id: string;
      userId: string;
    };
    expect(body.userId).toBe(user);
    return { browser, handle: body.handle, id: body.id };
  }

  const whoIs = async (browser: Browser) =>
    ((await (await browser.fetch('/me')).json()) as { userId: string | null }).userId;

  it('lists three logins of one user from three cookie jars; revoking one ends exactly that one', async () => {
    await start();
    const devices = [await login('ann'), await login('ann'), await login('ann')];
    const bob = await login('bob');
    const listed = await manager.sessionsOf('ann');
    expect(listed.map((s) => s.handle).sort()).toEqual(devices.map((d) => d.handle).sort());
    for (const s of listed) {
      expect(s.createdAt).toBeLessThanOrEqual(s.lastSeenAt);
      expect(s.expiresAt).toBe(s.lastSeenAt + 30 * 60_000);
    }
    expect(await manager.revoke('ann', devices[1]?.handle as string)).toBe(true);
    expect(await whoIs(devices[0]?.browser as Browser)).toBe('ann');
    expect(await whoIs(devices[1]?.browser as Browser)).toBeNull();
    expect(await whoIs(devices[2]?.browser as Browser)).toBe('ann');
    expect(await whoIs(bob.browser)).toBe('bob');
    expect((await manager.sessionsOf('ann')).length).toBe(2);
  });

  it('logs out everywhere: all of the user, the caller too unless it keeps this device; others untouched', async () => {
    await start();
    const devices = [await login('ann'), await login('ann'), await login('ann')];
    const bob = await login('bob');
    const caller = devices[0]?.browser as Browser;
    const kept = (await (await caller.fetch('/logout-everywhere?keep=1')).json()) as { revoked: number };
    expect(kept.revoked).toBe(2);
    expect(await Promise.all(devices.map((d) => whoIs(d.browser)))).toEqual(['ann', null, null]);
    expect((await manager.sessionsOf('ann')).map((s) => s.handle)).toEqual([devices[0]?.handle]);
    const all = (await (await caller.fetch('/logout-everywhere')).json()) as { revoked: number };
    expect(all.revoked).toBe(1);
    expect(await whoIs(caller)).toBeNull();
    expect(await manager.sessionsOf('ann')).toEqual([]);
    expect(await whoIs(bob.browser)).toBe('bob');
  });

  it('a handle does not work as a session id, and the id never appears in the list', async () => {
    await start();
    const ann = await login('ann');
    const listed = JSON.stringify(await manager.sessionsOf('ann'));
    expect(listed).not.toContain(ann.id);
    const thief = new Browser(server.url);
    const answer = await thief.fetch('/me', { headers: { cookie: `sid=${ann.handle}` } });
    expect(((await answer.json()) as { userId: string | null }).userId).toBeNull();
    expect(await whoIs(ann.browser)).toBe('ann');
  });

  it('a login racing with log out everywhere: bound before the call ends, bound after survives', async () => {
    await start();
    const before = await login('ann');
    const revoking = manager.revokeUser('ann');
    const after = await login('ann'); // its binding reaches the store after the revocation
    expect(await revoking).toBe(1);
    expect(await whoIs(before.browser)).toBeNull();
    expect(await whoIs(after.browser)).toBe('ann');
  });

  it('the index shrinks back as bound sessions expire (no leak)', async () => {
    await start();
    for (let i = 0; i < 20; i++) await login(`user${i % 5}`);
    expect((await manager.sessionsOf('user0')).length).toBe(4);
    clock.advance(31 * 60_000);
    await manager.provider.gc();
    for (let i = 0; i < 5; i++) expect(await manager.sessionsOf(`user${i}`)).toEqual([]);
    const indexed = (manager.provider as { indexedUsers?: number }).indexedUsers;
    if (indexed !== undefined) expect(indexed).toBe(0);
    expect(await manager.count()).toBe(0);
  });

  it('events arrive once each, batched, across shards, on a controlled clock', async () => {
    await start();
    const events: SessionEvent[] = [];
    const listener = (event: SessionEvent) => events.push(event);
    for (const type of ['created', 'destroyed', 'expired', 'evicted'] as const) manager.on(type, listener);
    const logins = [];
    for (let i = 0; i < 12; i++) logins.push(await login(`user${i % 3}`));
    await manager.revoke('user0', logins[0]?.handle as string);
    clock.advance(31 * 60_000);
    await manager.provider.gc();
    const deadline = Date.now() + 5000;
    while (events.length < 24 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect([count('created'), count('destroyed'), count('expired'), count('evicted')]).toEqual([
      12, 1, 11, 0,
    ]);
    const ended = events.filter((e) => e.type !== 'created').map((e) => e.handle);
    expect(new Set(ended).size).toBe(12);
    expect(new Set(ended)).toEqual(new Set(logins.map((l) => l.handle)));
    expect(events.find((e) => e.type === 'destroyed')).toMatchObject({ reason: 'revoke', userId: 'user0' });
    expect(events.filter((e) => e.type === 'expired').every((e) => e.reason === 'idle')).toBe(true);
    manager.off('created', listener);
    await login('late');
    await new Promise((r) => setTimeout(r, 50));
    expect(count('created')).toBe(12);
  });

  it('remember me extends only that session, and its cookie says so', async () => {
    await start();
    const remembered = new Browser(server.url);
    const response = await remembered.fetch('/login?user=ann&remember=1');
    const maxAge = /Max-Age=(\d+)/.exec(response.headers.getSetCookie().join(';'))?.[1];
    expect(Number(maxAge)).toBeGreaterThan((29 * DAY) / 1000);
    const plain = await login('ann');
    const plainCookie = (await plain.browser.fetch('/me')).headers.getSetCookie().join(';');
    expect(Number(/Max-Age=(\d+)/.exec(plainCookie)?.[1] ?? 1800)).toBeLessThanOrEqual(1800);
    // Used twice a day for 3 days (past the default 24h absolute timeout): the plain session died of its 30m idle.
    for (let day = 0; day < 3; day++) {
      clock.advance(DAY / 2);
      await whoIs(remembered);
      clock.advance(DAY / 2);
    }
    expect(await whoIs(remembered)).toBe('ann');
    expect(await whoIs(plain.browser)).toBeNull();
    await expect(manager.sessionsOf('ann')).resolves.toHaveLength(1);
  });

  it('a flash message is read once, and keys() does not list it', async () => {
    await start();
    const ann = await login('ann');
    const first = (await (await ann.browser.fetch('/me')).json()) as {
      notice: string | null;
      keys: string[];
    };
    expect(first).toMatchObject({ notice: 'welcome', keys: [] });
    const second = (await (await ann.browser.fetch('/me')).json()) as { notice: string | null };
    expect(second.notice).toBeNull();
  });
});
