import { describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { defaultShardCount, resolveShardedOptions } from '../src/providers/sharded/options.js';
import { Op } from '../src/providers/sharded/protocol.js';
import { applyUserOp } from '../src/providers/sharded/user-ops.js';
import { generateSid } from '../src/sid.js';

// What sharded-parts-units.test.ts leaves out of the sharded options and user operations (found by mutation
// testing): the default shard count on machines of other sizes than this one, the read cache beside `dir`,
// and a bind without a label as the router sends it (null on the wire).

const cores = vi.hoisted(() => ({ n: 2 }));
vi.mock('node:os', async (original) => ({
  ...(await original<typeof import('node:os')>()),
  availableParallelism: () => cores.n,
}));

describe('sharded options: edges', () => {
  it('defaults to every core but one, and one shard on a single core', () => {
    for (const [n, shards] of [
      [1, 1],
      [2, 1],
      [3, 2],
      [8, 7],
    ] as const) {
      cores.n = n;
      expect(defaultShardCount()).toBe(shards);
      expect(resolveShardedOptions({}).shards).toBe(shards);
    }
  });

  it('gives shard threads a 16 MB young generation unless resourceLimits says otherwise, keeping the rest', () => {
    expect(resolveShardedOptions({}).resourceLimits).toEqual({ maxYoungGenerationSizeMb: 16 });
    expect(resolveShardedOptions({ resourceLimits: { maxOldGenerationSizeMb: 64 } }).resourceLimits).toEqual({
      maxYoungGenerationSizeMb: 16,
      maxOldGenerationSizeMb: 64,
    });
    expect(
      resolveShardedOptions({ resourceLimits: { maxYoungGenerationSizeMb: 48 } }).resourceLimits,
    ).toEqual({
      maxYoungGenerationSizeMb: 48,
    });
  });

  it('takes readCacheBytes (0 turns the cache off), and refuses a read cache beside dir', () => {
    expect(resolveShardedOptions({ readCacheBytes: 0 }).readCacheBytes).toBe(0);
    expect(resolveShardedOptions({ readCacheBytes: 4096 }).readCacheBytes).toBe(4096);
    expect(resolveShardedOptions({ dir: '/tmp/x' }).readCacheBytes).toBe(0);
    expect(() => resolveShardedOptions({ dir: '/tmp/x', readCacheBytes: 4096 })).toThrow(
      new InvalidOptionError('readCacheBytes cannot be used with dir (a durable shard is not cached)'),
    );
  });
});

describe('sharded user operations: a bind without a label', () => {
  it('stores no label for the null the router sends, and keeps an existing one on a re-bind', () => {
    const table = new SessionTable(resolveLimits());
    const sid = generateSid();
    table.init(sid, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 }, undefined, 1000);
    const [, handle] = applyUserOp(table, [Op.BindUser, sid, 'alice', null], 1000) as [string, string, null];
    expect(table.users.sessionsOf('alice', 1000)).toStrictEqual([
      { handle, createdAt: 1000, lastSeenAt: 1000, expiresAt: 61_000 },
    ]);
    applyUserOp(table, [Op.BindUser, sid, 'alice', 'Phone'], 1001);
    expect(applyUserOp(table, [Op.BindUser, sid, 'alice', null], 1002)).toEqual(['alice', handle, 'Phone']);
  });
});
