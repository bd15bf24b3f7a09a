import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidSessionIdError } from '../../src/errors.js';
import type { SessionEvent } from '../../src/providers/provider.js';
import { createClient } from '../../src/providers/redis/client.js';
import { EventInbox } from '../../src/providers/redis/event-inbox.js';
import { GroupCounters } from '../../src/providers/redis/group-counters.js';
import { countLive, groupStats } from '../../src/providers/redis/group-queries.js';
import { KeyLayout, SLOT_GROUPS } from '../../src/providers/redis/key-layout.js';
import type { RedisLink } from '../../src/providers/redis/redis-link.js';
import {
  REVOCATION_MEMORY_MS,
  RedisUserCalls,
  type SessionCaller,
} from '../../src/providers/redis/user-calls.js';
import { generateSid } from '../../src/sid.js';

// The 'redis' provider's parts between the functions and the provider, without a server: the client it makes
// (its settings are what bound every operation while Redis is away), the inbox that takes events out of the
// functions' replies, the per-group questions of count() and stats(), and the user calls' arguments. A fake
// link records what would be sent; provider.test.ts, users.test.ts and cluster.test.ts run the same code
// against real servers.

type Options = Record<string, unknown> & { retryStrategy: (attempt: number) => number };

/** The client createClient makes, not connected (`lazyConnect`), so its settings can be read. */
function lazyClient(spec: Parameters<typeof createClient>[0]): Redis {
  return createClient({
    ...spec,
    clientOptions: { lazyConnect: true, ...spec.clientOptions },
  }) as unknown as Redis;
}

describe('redis client', () => {
  it('bounds every command while Redis is away: no offline queue, no resend, timeouts from operationTimeoutMs', () => {
    const client = lazyClient({ operationTimeoutMs: 700 });
    try {
      const options = client.options as unknown as Options;
      expect(options).toMatchObject({
        host: '127.0.0.1',
        port: 6379,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        connectTimeout: 700,
        socketTimeout: 1400,
        enableAutoPipelining: true,
      });
      // Reconnects after 50, 100, 200, 400, 800, then every 1,000 ms.
      expect([1, 2, 3, 4, 5, 6, 20].map(options.retryStrategy)).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
      // Errors reach the operations; the client's own 'error' events are listened to, so none is thrown.
      expect(client.listenerCount('error')).toBe(1);
      expect(() => client.emit('error', new Error('ECONNREFUSED'))).not.toThrow();
    } finally {
      client.disconnect();
    }
  });

  it('connects to the url given, and lets clientOptions override its settings', () => {
    const client = lazyClient({
      url: 'redis://localhost:6390/2',
      operationTimeoutMs: 1000,
      clientOptions: { enableOfflineQueue: true, socketTimeout: 5 },
    });
    try {
      expect(client.options).toMatchObject({
        host: 'localhost',
        port: 6390,
        db: 2,
        enableOfflineQueue: true,
        socketTimeout: 5,
        maxRetriesPerRequest: 0,
      });
    } finally {
      client.disconnect();
    }
  });

  it('makes a Cluster client from host:port nodes, with the same bounds on each node’s connection', () => {
    const cluster = createClient({
      cluster: ['10.0.0.1:7000', 'redis://node-b:7001', 'node-c'],
      operationTimeoutMs: 300,
      clientOptions: { lazyConnect: true, retryDelayOnFailover: 7, redisOptions: { password: 'pw' } },
    }) as unknown as Redis & { startupNodes: unknown; options: Options & { redisOptions: Options } };
    try {
      expect(cluster.isCluster).toBe(true);
      expect(cluster.startupNodes).toEqual([
        { host: '10.0.0.1', port: 7000 },
        { host: 'node-b', port: 7001 },
        { host: 'node-c', port: 6379 },
      ]);
      const options = cluster.options as unknown as Options & { redisOptions: Options };
      expect(options).toMatchObject({
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        slotsRefreshTimeout: 300,
        retryDelayOnFailover: 7,
        retryDelayOnClusterDown: 100,
      });
      expect([1, 3, 9].map(options.clusterRetryStrategy as (n: number) => number)).toEqual([50, 200, 1000]);
      expect(options.redisOptions).toMatchObject({
        password: 'pw',
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        connectTimeout: 300,
        socketTimeout: 600,
        enableAutoPipelining: true,
      });
      expect(options.redisOptions.retryStrategy(2)).toBe(100);
      expect(cluster.listenerCount('error')).toBe(1);
    } finally {
      cluster.disconnect();
    }
  });
});

describe('redis event inbox', () => {
  const reply = (events: string[][]) => [
    0,
    'the reply',
    ...events.flatMap(([type, reason, handle, userId]) => [
      Buffer.from(type as string),
      Buffer.from(reason as string),
      Buffer.from(handle as string),
      Buffer.from(userId as string),
    ]),
  ];
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('takes the events out of a function’s reply, and hands them over once per turn', async () => {
    const inbox = new EventInbox();
    const batches: (readonly SessionEvent[])[] = [];
    inbox.onEvents((events) => batches.push(events));
    expect(
      inbox.take(
        reply([
          ['created', 'bind', 'h1', 'ü-user'],
          ['destroyed', 'expired', 'h2', 'u2'],
        ]),
      ),
    ).toBe('the reply');
    expect(inbox.take(reply([['destroyed', 'revoke', 'h3', 'u3']]))).toBe('the reply');
    expect(batches).toEqual([]);
    await nextTurn();
    expect(batches).toEqual([
      [
        { type: 'created', reason: 'bind', handle: 'h1', userId: 'ü-user' },
        { type: 'destroyed', reason: 'expired', handle: 'h2', userId: 'u2' },
        { type: 'destroyed', reason: 'revoke', handle: 'h3', userId: 'u3' },
      ],
    ]);
  });

  it('passes other replies through untouched, and drops events while nobody listens', async () => {
    const inbox = new EventInbox();
    const plain = [1, 'x'];
    expect(inbox.take(plain)).toBe(plain);
    expect(inbox.take('OK')).toBe('OK');
    expect(inbox.take(null)).toBe(null);
    expect(inbox.take(reply([['created', 'bind', 'h', 'u']]))).toBe('the reply');
    expect(inbox.take([0, 7])).toBe(7);
    const batches: (readonly SessionEvent[])[] = [];
    inbox.onEvents((events) => batches.push(events));
    await nextTurn();
    expect(batches).toEqual([]);
    // Events are read four fields at a time: three fields left over (no user id) are not an event.
    const partial = ['destroyed', 'expired', 'h2'].map((field) => Buffer.from(field));
    expect(inbox.take([...reply([['created', 'bind', 'h', 'u']]), ...partial])).toBe('the reply');
    await nextTurn();
    expect(batches).toEqual([[{ type: 'created', reason: 'bind', handle: 'h', userId: 'u' }]]);
  });
});

/** A link that answers from `answer` and records every call. */
function fakeLink(
  answer: (call: {
    kind: string;
    name?: string;
    keys?: readonly string[];
    args?: readonly unknown[];
  }) => unknown,
) {
  const calls: { kind: string; name?: string; keys?: readonly string[]; args?: readonly unknown[] }[] = [];
  const client = {
    zcount: async (key: string, min: string, max: string) => {
      const call = { kind: 'zcount', keys: [key], args: [min, max] };
      calls.push(call);
      return answer(call);
    },
    zcard: async (key: string) => {
      const call = { kind: 'zcard', keys: [key] };
      calls.push(call);
      return answer(call);
    },
  };
  const link = {
    queueDepth: 3,
    read: <T>(send: (c: typeof client) => Promise<T>) => send(client),
    fcall: async (name: string, keys: readonly string[], args: readonly unknown[]) => {
      const call = { kind: 'fcall', name, keys, args };
      calls.push(call);
      return answer(call);
    },
  };
  return { link: link as unknown as RedisLink, calls };
}

describe('redis group queries', () => {
  const layout = new KeyLayout('p:');

  it('counts the sessions live after now in every group’s index, and sums them', async () => {
    const { link, calls } = fakeLink((call) => String(String(call.keys?.[0]).length));
    const total = await countLive(link, layout, 3, 1234.5);
    expect(calls).toEqual(
      [0, 1, 2].map((group) => ({
        kind: 'zcount',
        keys: [layout.indexKey(group)],
        args: ['(1234.5', '+inf'],
      })),
    );
    expect(total).toBe([0, 1, 2].reduce((sum, group) => sum + layout.indexKey(group).length, 0));
  });

  it('reports each group’s index size and counters, the queue once, on the first entry', async () => {
    const { link } = fakeLink((call) => (call.keys?.[0] === layout.indexKey(1) ? 5 : 2));
    const counters = [new GroupCounters(), new GroupCounters()];
    counters[1] = Object.assign(new GroupCounters(), {
      ops: 4,
      batches: 1,
      expired: 2,
      evicted: 3,
      gcSweeps: 6,
      gcMaxSliceMs: 7,
    });
    const stats = await groupStats(link, layout, counters);
    expect(stats).toHaveLength(2);
    expect(stats[0]).toMatchObject({ shard: 0, sessions: 2, ops: 0, queueDepth: 3 });
    expect(stats[1]).toMatchObject({
      shard: 1,
      sessions: 5,
      ops: 4,
      batches: 1,
      queueDepth: 0,
      gcSweeps: 6,
      gcMaxSliceMs: 7,
      expired: 2,
      evicted: 3,
    });
    expect(stats[1]?.heapUsedBytes).toBeGreaterThan(0);
    expect(typeof stats[1]?.threadId).toBe('number');
  });
});

describe('redis user calls', () => {
  const H1 = 'h1h1h1h1h1h1h1h1h1h1h1';
  const H2 = 'keep-me_keep-me_keep-m';
  const layout = new KeyLayout('sess:');
  const now = () => 1000;

  function userCalls(
    cluster: boolean,
    answer: (call: { name?: string; keys?: readonly string[] }) => unknown,
  ) {
    const { link, calls } = fakeLink(answer);
    const sessionCalls: { sid: string; name: string; args: string[] }[] = [];
    let reply: unknown = null;
    let open = true;
    const sessions: SessionCaller = {
      checkOpen() {
        if (!open) throw new Error('closed');
      },
      async call(sid, name, args) {
        sessionCalls.push({ sid, name, args });
        return reply;
      },
      missing: (_sid, r) => {
        expect(r).toBe(reply);
        return null;
      },
    };
    const calls_ = new RedisUserCalls(link, layout, now, cluster, sessions);
    return {
      calls_,
      calls,
      sessionCalls,
      answer: (r: unknown) => {
        reply = r;
      },
      close: () => {
        open = false;
      },
    };
  }

  it('binds with a fresh 16-byte handle and the label flag, and reads the binding the function answers', async () => {
    const t = userCalls(false, () => null);
    const sid = generateSid();
    t.answer([Buffer.from('kept-handle', 'latin1'), null]);
    expect(await t.calls_.bindUser(sid, 'alice')).toEqual({ userId: 'alice', handle: 'kept-handle' });
    t.answer([Buffer.from('h2', 'latin1'), Buffer.from('Phöne')]);
    expect(await t.calls_.bindUser(sid, 'alice', 'ignored')).toEqual({
      userId: 'alice',
      handle: 'h2',
      label: 'Phöne',
    });
    const [first, second] = t.sessionCalls;
    expect(first?.name).toBe('bind');
    expect(first?.args[0]).toBe('1000');
    expect(first?.args.slice(1, 2)).toEqual(['alice']);
    expect(first?.args[2]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first?.args.slice(3)).toEqual(['0', '']);
    expect(second?.args.slice(3)).toEqual(['1', 'ignored']);
    expect(second?.args[2]).not.toBe(first?.args[2]);
    t.answer(0);
    expect(await t.calls_.bindUser(sid, 'alice')).toBeNull();
  });

  it('sets timeouts from the meta the function answers, null for a missing session', async () => {
    const t = userCalls(false, () => null);
    const sid = generateSid();
    t.answer(Buffer.from('100 50 150 400 9 t=1', 'latin1'));
    expect(await t.calls_.setTimeouts(sid, { idleTimeoutMs: 50, absoluteTimeoutMs: 300 })).toEqual({
      createdAt: 100,
      idleExpiresAt: 150,
      absoluteExpiresAt: 400,
      expiresAt: 150,
    });
    expect(t.sessionCalls[0]).toEqual({ sid, name: 'retime', args: ['1000', '50', '300'] });
    t.answer(null);
    expect(await t.calls_.setTimeouts(sid, { idleTimeoutMs: 50, absoluteTimeoutMs: 300 })).toBeNull();
  });

  it('asks every group’s index at once on one server, and each group on its own on a Cluster', async () => {
    const entry = (handle: string, label: Buffer | null) => [
      Buffer.from(handle),
      Buffer.from('10'),
      Buffer.from('20'),
      Buffer.from('30.5'),
      label,
    ];
    const single = userCalls(false, () => [...entry('a', null), ...entry('b', Buffer.from('Läptop'))]);
    expect(await single.calls_.sessionsOf('alice')).toEqual([
      { handle: 'a', createdAt: 10, lastSeenAt: 20, expiresAt: 30.5 },
      { handle: 'b', createdAt: 10, lastSeenAt: 20, expiresAt: 30.5, label: 'Läptop' },
    ]);
    expect(single.calls).toHaveLength(1);
    expect(single.calls[0]).toMatchObject({ name: 'sessions_of', args: ['1000', 'alice'] });
    expect(single.calls[0]?.keys).toEqual(Array.from({ length: SLOT_GROUPS }, (_, g) => layout.indexKey(g)));

    const cluster = userCalls(true, (call) =>
      call.keys?.[0] === layout.indexKey(5) ? entry('c', null) : [],
    );
    expect(await cluster.calls_.sessionsOf('bob')).toEqual([
      { handle: 'c', createdAt: 10, lastSeenAt: 20, expiresAt: 30.5 },
    ]);
    expect(cluster.calls.map((call) => call.keys)).toEqual(
      Array.from({ length: SLOT_GROUPS }, (_, g) => [layout.indexKey(g)]),
    );
  });

  it('revokes across the groups and sums their counts; only a Cluster leaves tombstones', async () => {
    const single = userCalls(false, () => 2);
    expect(await single.calls_.revokeUser('alice')).toBe(2);
    expect(await single.calls_.revokeUser('alice', H2)).toBe(2);
    expect(await single.calls_.revoke('alice', H1)).toBe(true);
    expect(single.calls.map((call) => call.args)).toEqual([
      ['1000', 'alice', '', '', '0'],
      ['1000', 'alice', '', H2, '0'],
      ['1000', 'alice', H1, '', '0'],
    ]);
    const none = userCalls(false, () => 0);
    expect(await none.calls_.revoke('alice', H1)).toBe(false);

    const cluster = userCalls(true, (call) => (call.keys?.[0] === layout.indexKey(9) ? 1 : 0));
    expect(await cluster.calls_.revokeUser('alice')).toBe(1);
    expect(await cluster.calls_.revoke('alice', H2)).toBe(true);
    expect(cluster.calls).toHaveLength(2 * SLOT_GROUPS);
    expect(cluster.calls[0]).toMatchObject({
      name: 'revoke',
      args: ['1000', 'alice', '', '', String(REVOCATION_MEMORY_MS)],
    });
    expect(REVOCATION_MEMORY_MS).toBe(60_000);
  });

  it('checks its arguments and that the provider is open before anything is sent', async () => {
    const t = userCalls(false, () => 1);
    const sid = generateSid();
    await expect(t.calls_.bindUser('not-an-id', 'alice')).rejects.toThrow(InvalidSessionIdError);
    await expect(t.calls_.bindUser(sid, '')).rejects.toThrow(/user id/);
    await expect(t.calls_.bindUser(sid, 'alice', 'x'.repeat(201))).rejects.toThrow(/label/);
    await expect(t.calls_.setTimeouts('bad', { idleTimeoutMs: 1, absoluteTimeoutMs: 1 })).rejects.toThrow(
      InvalidSessionIdError,
    );
    await expect(t.calls_.setTimeouts(sid, { idleTimeoutMs: -1, absoluteTimeoutMs: 1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(t.calls_.sessionsOf('')).rejects.toThrow(/user id/);
    await expect(t.calls_.revoke('', H1)).rejects.toThrow(/user id/);
    await expect(t.calls_.revoke('alice', 'h')).rejects.toThrow(/handle/);
    await expect(t.calls_.revokeUser('')).rejects.toThrow(/user id/);
    await expect(t.calls_.revokeUser('alice', 'h')).rejects.toThrow(/handle/);
    expect(t.sessionCalls).toEqual([]);
    expect(t.calls).toEqual([]);
    t.close();
    for (const call of [
      () => t.calls_.bindUser(sid, 'alice'),
      () => t.calls_.setTimeouts(sid, { idleTimeoutMs: 1, absoluteTimeoutMs: 1 }),
      () => t.calls_.sessionsOf('alice'),
      () => t.calls_.revoke('alice', H1),
      () => t.calls_.revokeUser('alice'),
    ]) {
      await expect(call()).rejects.toThrow('closed');
    }
    expect(t.calls).toEqual([]);
  });
});
