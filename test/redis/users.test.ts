import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/providers/provider.js';
import { groupOf, KeyLayout, SLOT_GROUPS } from '../../src/providers/redis/key-layout.js';
import { createRedisProvider, type RedisProvider } from '../../src/providers/redis/provider.js';
import { generateSid } from '../../src/sid.js';
import { RedisServer, waitFor } from '../support/redis-servers.js';

// A user's sessions on one redis-server, as the contract suite cannot see them: the keys the index leaves in
// Redis (none once its sessions are gone), that unbound sessions are stored exactly as before, and which
// provider instance reports which event when two share one Redis (as two app processes would).
const Redis = createRequire(import.meta.url)('ioredis').Redis;
const SHORT = { idleTimeoutMs: 10_000, absoluteTimeoutMs: 30_000 };
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

let server: RedisServer;
let admin: InstanceType<typeof Redis>;
const providers: RedisProvider[] = [];
let prefixes = 0;
let time = Date.now();
const now = () => time;

function provider(prefix: string): RedisProvider {
  const made = createRedisProvider({ url: server.url, prefix, now, gcIntervalMs: 0 });
  providers.push(made);
  return made;
}

function listen(p: RedisProvider): SessionEvent[] {
  const events: SessionEvent[] = [];
  p.onEvents((batch) => events.push(...batch));
  return events;
}

/** Every key under `prefix`, by SCAN (a test may scan; the provider never does). */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)) as [
      string,
      string[],
    ];
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  admin?.disconnect();
  await server?.stop();
});

describe("a user's sessions in Redis", () => {
  it('the index shrinks back to nothing as bound sessions expire: no user key, no index entry, no hash left', async () => {
    const prefix = `shrink${prefixes++}:`;
    const p = provider(prefix);
    const events = listen(p);
    // 200 sessions of 50 users, spread over the slot groups; half of them die by the idle timeout.
    const sids = Array.from({ length: 200 }, () => generateSid());
    await Promise.all(sids.map((sid, i) => p.init(sid, i % 2 === 0 ? SHORT : LONG)));
    await Promise.all(sids.map((sid, i) => p.bindUser(sid, `user-${i % 50}`)));
    expect((await keysUnder(`${prefix}`)).filter((key) => key.includes(':user:')).length).toBeGreaterThan(50);
    time += SHORT.idleTimeoutMs;
    expect(await p.gc()).toBe(100);
    // user-u has sessions u, u+50, u+100, u+150: all SHORT (gone) for an even u, all LONG for an odd one.
    for (let u = 0; u < 50; u++) expect((await p.sessionsOf(`user-${u}`)).length).toBe(u % 2 === 0 ? 0 : 4);
    time += LONG.idleTimeoutMs;
    expect(await p.gc()).toBe(100);
    // Nothing of the 200 sessions or their users is left: no hash (Redis keeps an expired bound hash up to an
    // hour for the sweeper, which removed them), no user index key, and the 64 deadline indexes are empty.
    expect(await keysUnder(prefix)).toEqual([]);
    await waitFor('the expired events', async () => events.length === 400);
    expect(events.filter((e) => e.type === 'expired').length).toBe(200);
  });

  it('a bound session whose hash Redis removed itself still leaves the index at the sweep, without an event', async () => {
    const prefix = `gone${prefixes++}:`;
    const p = provider(prefix);
    const layout = new KeyLayout(prefix);
    const sid = generateSid();
    await p.init(sid, SHORT);
    await p.bindUser(sid, 'ann');
    const events = listen(p);
    // As maxmemory eviction would, or Redis's own expiry an hour past the deadline with no sweep.
    await admin.del(layout.sessionKey(sid));
    time += SHORT.idleTimeoutMs;
    expect(await p.gc()).toBe(1);
    expect(await keysUnder(prefix)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual([]);
  });

  it('stores an unbound session exactly as before: no extra in its meta, its id as its index entry, its expiry at its deadline', async () => {
    const prefix = `plain${prefixes++}:`;
    const p = provider(prefix);
    const layout = new KeyLayout(prefix);
    const [plain, bound] = [generateSid(), generateSid()];
    const meta = await p.init(plain, LONG);
    await p.init(bound, LONG);
    const binding = await p.bindUser(bound, 'ann zoë', 'phone, "work"');
    expect(await admin.hget(layout.sessionKey(plain), '')).toBe(
      `${meta.createdAt} ${LONG.idleTimeoutMs} ${meta.idleExpiresAt} ${meta.absoluteExpiresAt} 0`,
    );
    expect(await admin.zrange(layout.indexKey(groupOf(plain)), 0, -1)).toContain(plain);
    expect(await admin.pexpiretime(layout.sessionKey(plain))).toBe(meta.expiresAt);
    // A bound one: its binding in the meta (percent-encoded), its user in its index entry, an hour of grace.
    expect(await admin.hget(layout.sessionKey(bound), '')).toMatch(
      new RegExp(` u=${binding?.handle},${time},ann%20zo%C3%AB,phone%2C%20%22work%22$`),
    );
    expect(await admin.zrange(layout.indexKey(groupOf(bound)), 0, -1)).toContain(
      `${bound} ${binding?.handle} ann zoë`,
    );
    expect(await admin.pexpiretime(layout.sessionKey(bound))).toBe(meta.expiresAt + 3_600_000);
    expect(
      await admin.hgetall(`${prefix}${layout.sessionKey(bound).slice(prefix.length, -43)}user:ann zoë`),
    ).toEqual({
      [binding?.handle as string]: bound,
    });
    expect((await p.read(bound))?.binding).toEqual({
      userId: 'ann zoë',
      handle: binding?.handle,
      label: 'phone, "work"',
    });
  });

  it('sessionsOf and revokeUser cost one call on one server: FCALL with the 64 slot groups, no SCAN', async () => {
    const p = provider(`calls${prefixes++}:`);
    const sid = generateSid();
    await p.init(sid, LONG);
    await p.bindUser(sid, 'ann');
    await admin.config('RESETSTAT');
    expect((await p.sessionsOf('ann')).length).toBe(1);
    expect(await p.revokeUser('ann')).toBe(1);
    const stats = await admin.info('commandstats');
    const called = Object.fromEntries(
      [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map(([, name, calls]) => [name, Number(calls)]),
    );
    expect(called.fcall).toBe(2);
    expect(called.scan ?? 0).toBe(0);
    expect(called.keys ?? 0).toBe(0);
    // 64 user index keys looked at, by the two calls (HGETALL), and the one session's meta twice.
    expect(called.hgetall).toBe(2 * SLOT_GROUPS);
  });

  it("two providers on one Redis (two processes): each sees the user's sessions, and a revokeUser of one ends the other's; each event is reported once, by the one whose call caused it", async () => {
    const prefix = `two${prefixes++}:`;
    const [a, b] = [provider(prefix), provider(prefix)];
    const [eventsA, eventsB] = [listen(a), listen(b)];
    const [onA, onB, mine] = [generateSid(), generateSid(), generateSid()];
    await a.init(onA, LONG);
    await b.init(onB, SHORT);
    await a.init(mine, LONG);
    const handleA = (await a.bindUser(onA, 'ann'))?.handle as string;
    const handleB = (await b.bindUser(onB, 'ann'))?.handle as string;
    const keep = (await a.bindUser(mine, 'ann'))?.handle as string;
    expect((await b.sessionsOf('ann')).map((s) => s.handle).sort()).toEqual([handleA, handleB, keep].sort());
    expect(await b.revokeUser('ann', keep)).toBe(2);
    expect(await a.read(onA)).toBeNull();
    expect(await b.read(onB)).toBeNull();
    expect(await a.read(mine)).not.toBeNull();
    expect((await a.sessionsOf('ann')).map((s) => s.handle)).toEqual([keep]);
    // An expiry is reported by the provider whose sweep found it.
    const late = generateSid();
    await b.init(late, SHORT);
    const handleLate = (await b.bindUser(late, 'ann'))?.handle as string;
    time += SHORT.idleTimeoutMs;
    expect(await a.gc()).toBe(1);
    expect(await b.gc()).toBe(0);
    await waitFor('the events', async () => eventsA.length + eventsB.length === 7);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const seen = (events: SessionEvent[]) => events.map((e) => `${e.type}:${e.reason}:${e.handle}`).sort();
    expect(seen(eventsA)).toEqual(
      [`created:login:${handleA}`, `created:login:${keep}`, `expired:idle:${handleLate}`].sort(),
    );
    expect(seen(eventsB)).toEqual(
      [
        `created:login:${handleB}`,
        `created:login:${handleLate}`,
        `destroyed:revoke:${handleA}`,
        `destroyed:revoke:${handleB}`,
      ].sort(),
    );
  });

  it('a login racing with log out everywhere: a binding sent before revokeUser is ended, one sent after survives', async () => {
    const p = provider(`race${prefixes++}:`);
    const [before, after] = [generateSid(), generateSid()];
    await Promise.all([p.init(before, LONG), p.init(after, LONG)]);
    // Issued in one turn, in this order: one pipeline, applied by Redis in issue order.
    const [boundBefore, ended, boundAfter] = await Promise.all([
      p.bindUser(before, 'cy'),
      p.revokeUser('cy'),
      p.bindUser(after, 'cy'),
    ]);
    expect(ended).toBe(1);
    expect(await p.read(before)).toBeNull();
    expect((await p.read(after))?.binding?.handle).toBe(boundAfter?.handle);
    expect((await p.sessionsOf('cy')).map((s) => s.handle)).toEqual([boundAfter?.handle]);
    expect(boundBefore).not.toBeNull();
  });

  it("setTimeouts: Redis expires the key at the session's own deadline, and a renamed session keeps it", async () => {
    const prefix = `retime${prefixes++}:`;
    const p = provider(prefix);
    const layout = new KeyLayout(prefix);
    const [sid, renamed] = [generateSid(), generateSid()];
    await p.init(sid, SHORT);
    const meta = await p.setTimeouts(sid, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000 });
    expect(await admin.pexpiretime(layout.sessionKey(sid))).toBe(meta?.expiresAt);
    await p.rename(sid, renamed);
    expect((await p.read(renamed))?.idleTimeoutMs).toBe(60_000);
    time += 30_000;
    expect(await p.commit(renamed, {})).not.toBeNull();
  });
});
