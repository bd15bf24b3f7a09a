import { createRequire } from 'node:module';
import type { Cluster as IoredisCluster, Redis as IoredisRedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/codec.js';
import { InvalidOptionError } from '../../src/errors.js';
import { createSessionManager } from '../../src/index.js';
import { writeNumber } from '../../src/providers/number-codec.js';
import type { RedisClient } from '../../src/providers/redis/client.js';
import { groupOf, KeyLayout } from '../../src/providers/redis/key-layout.js';
import { LIBRARY_NAME } from '../../src/providers/redis/lua/library.js';
import { createRedisProvider, type RedisProvider } from '../../src/providers/redis/provider.js';
import { generateSid } from '../../src/sid.js';
import { RedisServer, waitFor } from '../support/redis-servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// What the contract suite cannot see: the key layout operators inspect, that count() does not scan, that a
// turn's operations leave together, eviction per slot group, Redis's own expiry, reloading the functions.
const Redis = createRequire(import.meta.url)('ioredis').Redis;
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

let server: RedisServer;
let admin: InstanceType<typeof Redis>;
const providers: RedisProvider[] = [];
let prefixes = 0;

function provider(options: Parameters<typeof createRedisProvider>[0] = {}): RedisProvider {
  const made = createRedisProvider({
    url: server.url,
    prefix: `t${prefixes++}:`,
    gcIntervalMs: 0,
    ...options,
  });
  providers.push(made);
  return made;
}

/** A session id of the given slot group. */
function sidInGroup(group: number): string {
  for (;;) {
    const sid = generateSid();
    if (groupOf(sid) === group) return sid;
  }
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

describe("the 'redis' provider's options", () => {
  it('refuses a bad or unknown option at construction with InvalidOptionError naming it', () => {
    const bad: [string, object, RegExp][] = [
      ['unknown', { urll: 'redis://x' }, /unknown option 'urll'/],
      ['two targets', { url: 'redis://a:1', cluster: ['b:2'] }, /one of url, cluster and client/],
      ['not a redis url', { url: 'http://127.0.0.1:6379' }, /url must be a redis/],
      ['an empty cluster', { cluster: [] }, /cluster must be/],
      ['a cluster node without a port', { cluster: ['127.0.0.1'] }, /cluster must be/],
      ['not a client', { client: { get: () => 1 } }, /client must be/],
      ['a prefix with a brace', { prefix: 'sess{' }, /prefix must be/],
      ['a zero timeout', { operationTimeoutMs: 0 }, /operationTimeoutMs/],
      ['a fractional queue limit', { maxQueuedOps: 1.5 }, /maxQueuedOps/],
    ];
    for (const [what, options, message] of bad) {
      expect(() => createRedisProvider(options), what).toThrow(InvalidOptionError);
      expect(() => createRedisProvider(options), what).toThrow(message);
    }
  });

  it('is a registered provider whose options are typed', async () => {
    const manager = createSessionManager({
      provider: 'redis',
      providerOptions: { url: server.url, prefix: 'registered:', gcIntervalMs: 0 },
    });
    expect(await manager.count()).toBe(0);
    await manager.close();
    // @ts-expect-error: a typo in providerOptions is a type error, as it is an InvalidOptionError.
    expect(() => createSessionManager({ provider: 'redis', providerOptions: { urll: 'x' } })).toThrow(
      InvalidOptionError,
    );
  });
});

describe('the key layout', () => {
  it('keeps a session in one hash: the values by key, the timestamps in the "" field, expiring at its deadline', async () => {
    const p = provider({ prefix: 'layout:' });
    const sid = generateSid();
    const meta = await p.init(sid, LONG, { set: [['user', encodeValue('ann')]] });
    const layout = new KeyLayout('layout:');
    const key = layout.sessionKey(sid);
    expect(key).toMatch(/^layout:\{[0-9a-z]+\}:/);
    expect(key.endsWith(`:${sid}`)).toBe(true);
    const hash = await admin.hgetallBuffer(key);
    expect(Object.keys(hash).sort()).toEqual(['', 'user']);
    expect(hash.user.equals(Buffer.from(encodeValue('ann')))).toBe(true);
    const bytes = 'user'.length + encodeValue('ann').byteLength;
    expect(hash[''].toString()).toBe(
      `${meta.createdAt} ${LONG.idleTimeoutMs} ${meta.idleExpiresAt} ${meta.absoluteExpiresAt} ${bytes}`,
    );
    expect(await admin.pexpiretime(key)).toBe(meta.expiresAt);
    expect(Number(await admin.zscore(layout.indexKey(groupOf(sid)), sid))).toBe(meta.expiresAt);
  });

  it('carries over a named extra in the meta field that this version does not know (room for later fields)', async () => {
    const p = provider({ prefix: 'extra:' });
    const sid = generateSid();
    await p.init(sid, LONG);
    const key = new KeyLayout('extra:').sessionKey(sid);
    await admin.hset(key, '', `${await admin.hget(key, '')} x=later`);
    expect(await p.commit(sid, { set: [['a', encodeValue(1)]] })).not.toBeNull();
    expect(await p.incr(sid, 'n', 1)).toBe(1);
    expect(await admin.hget(key, '')).toMatch(/ x=later$/);
    expect((await p.read(sid))?.values.size).toBe(2);
  });

  it('counts live sessions from the deadline index alone: ZCOUNT per slot group, no SCAN, no KEYS', async () => {
    const p = provider();
    await Promise.all(Array.from({ length: 30 }, () => p.init(generateSid(), LONG)));
    await admin.config('RESETSTAT');
    expect(await p.count()).toBe(30);
    const stats = await admin.info('commandstats');
    const called = [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map(([, name, calls]) => [
      name,
      Number(calls),
    ]);
    expect(Object.fromEntries(called)).toEqual({ zcount: 64 });
  });
});

describe('batching', () => {
  it('sends the operations issued in one event-loop turn together, not one trip each', async () => {
    const proxy = await TcpProxy.start(server.port);
    try {
      const p = provider({ url: proxy.url });
      const sids = Array.from({ length: 200 }, () => generateSid());
      await Promise.all(sids.map((sid) => p.init(sid, LONG)));
      const sum = async (field: 'ops' | 'batches') =>
        (await p.stats()).reduce((total, entry) => total + entry[field], 0);
      const [opsBefore, batchesBefore] = [await sum('ops'), await sum('batches')];
      proxy.reset();
      await Promise.all(sids.map((sid) => p.read(sid)));
      const oneTurn = proxy.chunks;
      // stats() says the same: 200 operations in one turn.
      expect([(await sum('ops')) - opsBefore, (await sum('batches')) - batchesBefore]).toEqual([200, 1]);
      proxy.reset();
      for (const sid of sids) await p.read(sid);
      const oneByOne = proxy.chunks;
      expect(oneByOne).toBe(200);
      // 200 reads (~25 KB) in one pipeline: one write, which TCP may still deliver in a few segments.
      expect(oneTurn).toBeLessThanOrEqual(4);
    } finally {
      await proxy.close();
    }
  });
});

describe('eviction at maxSessions', () => {
  it('holds maxSessions / 64 sessions per slot group and evicts the one closest to expiry, counted in stats', async () => {
    const p = provider({ maxSessions: 128 }); // 2 per group
    const group = 5;
    const [soon, later, newest] = [sidInGroup(group), sidInGroup(group), sidInGroup(group)];
    const other = sidInGroup(6);
    await p.init(later, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 86_400_000 });
    await p.init(soon, { idleTimeoutMs: 30_000, absoluteTimeoutMs: 86_400_000 });
    await p.init(other, LONG);
    await p.init(newest, LONG);
    expect(await p.read(soon)).toBeNull();
    expect(await p.read(later)).not.toBeNull();
    expect(await p.read(newest)).not.toBeNull();
    expect(await p.read(other)).not.toBeNull();
    const stats = await p.stats();
    expect(stats).toHaveLength(64);
    expect(stats[group]).toMatchObject({ sessions: 2, evicted: 1 });
    expect(stats.reduce((sum, entry) => sum + entry.evicted, 0)).toBe(1);
    expect(await p.count()).toBe(3);
  });

  it('sets no limit of its own when maxSessions is not given: Redis maxmemory is the bound', async () => {
    const p = provider();
    const sids = Array.from({ length: 5 }, () => sidInGroup(9));
    for (const sid of sids) await p.init(sid, LONG);
    for (const sid of sids) expect(await p.read(sid)).not.toBeNull();
  });
});

describe("Redis's own expiry", () => {
  it('removes a dead session by itself; count leaves it out at once, gc clears its index entry', async () => {
    const p = provider();
    const sid = generateSid();
    await p.init(sid, { idleTimeoutMs: 300, absoluteTimeoutMs: 60_000 });
    const key = new KeyLayout(p.prefix).sessionKey(sid);
    await waitFor('Redis to expire the key', async () => (await admin.exists(key)) === 0, 5000);
    expect(await p.count()).toBe(0);
    expect((await p.stats())[groupOf(sid)]?.sessions).toBe(1);
    expect(await p.gc()).toBe(1);
    expect((await p.stats())[groupOf(sid)]?.sessions).toBe(0);
  });
});

describe('the GC tick', () => {
  it('sweeps by itself every gcIntervalMs what the clock says is dead', async () => {
    let time = Date.now();
    const p = provider({ gcIntervalMs: 50, now: () => time });
    const [dead, alive] = [generateSid(), generateSid()];
    await p.init(dead, { idleTimeoutMs: 10_000, absoluteTimeoutMs: 60_000 });
    await p.init(alive, LONG);
    time += 10_000;
    const total = async (field: 'sessions' | 'expired' | 'gcSweeps') =>
      (await p.stats()).reduce((sum, entry) => sum + entry[field], 0);
    await waitFor('the tick to sweep', async () => (await total('sessions')) === 1);
    expect(await total('expired')).toBe(1);
    expect(await total('gcSweeps')).toBeGreaterThan(0);
    expect(await p.read(alive)).not.toBeNull();
  });
});

describe('the functions', () => {
  it('are loaded before the first operation and loaded again when the server lost them, in order', async () => {
    const p = provider();
    const sid = generateSid();
    await p.init(sid, LONG, { set: [['a', encodeValue(1)]] });
    expect(await admin.call('FUNCTION', 'LIST', 'LIBRARYNAME', LIBRARY_NAME)).toHaveLength(1);
    await admin.call('FUNCTION', 'FLUSH');
    // Both fail "Function not found"; the commit is sent again before the read, so the read sees it.
    const committed = p.commit(sid, { set: [['a', encodeValue(2)]] });
    const read = p.read(sid);
    expect(await committed).not.toBeNull();
    expect((await read)?.values.get('a')).toEqual(Buffer.from(encodeValue(2)));
    expect(await admin.call('FUNCTION', 'LIST', 'LIBRARYNAME', LIBRARY_NAME)).toHaveLength(1);
  });
});

// The structural type of the `client` option takes ioredis 6's own classes as they are (a compile-time check).
const fits: ((client: IoredisRedis | IoredisCluster) => RedisClient)[] = [(client) => client];

describe('a client the app already has', () => {
  it('is used as it is, and left open by close()', async () => {
    const client: IoredisRedis = new Redis(server.url, { enableAutoPipelining: true });
    const p = createRedisProvider({ client: fits[0]?.(client), prefix: 'own:', gcIntervalMs: 0 });
    const sid = generateSid();
    await p.init(sid, LONG);
    expect(await p.incr(sid, 'n', 2)).toBe(2);
    await p.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});

describe('incr on Redis', () => {
  it('keeps -0, fractions and the infinities exactly as JavaScript adds them', async () => {
    const p = provider();
    const sid = generateSid();
    // -0 as a float64 (what writeNumber stores for it): -0 + -0 is -0.
    await p.init(sid, LONG, { set: [['z', writeNumber(-0)]] });
    expect(Object.is(await p.incr(sid, 'z', -0), -0)).toBe(true);
    expect(await p.incr(sid, 'f', 0.1)).toBe(0.1);
    expect(await p.incr(sid, 'f', 0.2)).toBe(0.1 + 0.2);
    expect(await p.incr(sid, 'g', -Number.MAX_VALUE)).toBe(-Number.MAX_VALUE);
    expect(await p.incr(sid, 'g', -Number.MAX_VALUE)).toBe(Number.NEGATIVE_INFINITY);
  });
});
