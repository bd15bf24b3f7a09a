import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, SessionError } from '../src/errors.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import {
  DEFAULT_MAX_OPS_PER_FRAME,
  DEFAULT_MAX_QUEUED_OPS,
  DEFAULT_SHARD_TIMEOUT_MS,
  defaultShardCount,
  resolveShardedOptions,
} from '../src/providers/sharded/options.js';
import { Op } from '../src/providers/sharded/protocol.js';
import { shardOf } from '../src/providers/sharded/shard-hash.js';
import { applyUserOp } from '../src/providers/sharded/user-ops.js';
import { workerFilename } from '../src/providers/sharded/worker-path.js';
import { generateSid } from '../src/sid.js';

// The sharded provider's parts that run in the main thread (or that a test can run there): the id → shard
// hash, the options, where the worker file is, and the user operations a shard applies to its table.

describe('shardOf', () => {
  it('is FNV-1a (32 bits) of the id modulo the shard count', () => {
    // FNV-1a 32 of '' is the offset basis 0x811c9dc5; of 'a' 0xe40c292c; of 'foobar' 0xbf9cf968 (the reference values).
    expect(shardOf('', 2 ** 31)).toBe(0x811c9dc5 % 2 ** 31);
    expect(shardOf('a', 0x1_0000_0000)).toBe(0xe40c292c);
    expect(shardOf('foobar', 0x1_0000_0000)).toBe(0xbf9cf968);
    expect(shardOf('foobar', 7)).toBe(0xbf9cf968 % 7);
    expect(shardOf('anything', 1)).toBe(0);
  });

  it('spreads random ids evenly, and one id always lands on the same shard', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const sid = generateSid();
      const shard = shardOf(sid, 4);
      expect(shardOf(sid, 4)).toBe(shard);
      counts[shard] = (counts[shard] as number) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});

describe('sharded options', () => {
  it('fills in the defaults: every core but one, the queue and frame sizes, the watchdog, a 16 MB young generation, no durability', () => {
    const resolved = resolveShardedOptions({});
    expect(resolved.shards).toBe(defaultShardCount());
    expect(defaultShardCount()).toBeGreaterThanOrEqual(1);
    expect(resolved).toMatchObject({
      maxQueuedOps: 65_536,
      maxOpsPerFrame: 32,
      shardTimeoutMs: 5000,
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
      durable: undefined,
      gcIntervalMs: 1000,
      gcSliceMs: 2,
    });
    expect([DEFAULT_MAX_QUEUED_OPS, DEFAULT_MAX_OPS_PER_FRAME, DEFAULT_SHARD_TIMEOUT_MS]).toEqual([
      65_536, 32, 5000,
    ]);
  });

  it('keeps what is given, and fills in the durable defaults with dir', () => {
    const resourceLimits = { maxOldGenerationSizeMb: 64 };
    const resolved = resolveShardedOptions({
      shards: 256,
      maxQueuedOps: 1,
      maxOpsPerFrame: 1,
      shardTimeoutMs: 2_147_483_647,
      resourceLimits,
      maxShardBytes: 10,
      dir: '/tmp/x',
    });
    expect(resolved).toMatchObject({
      shards: 256,
      maxQueuedOps: 1,
      maxOpsPerFrame: 1,
      shardTimeoutMs: 2_147_483_647,
      resourceLimits,
      durable: { dir: '/tmp/x', fsync: false, mapSize: 0 },
    });
    expect(resolved.limits.maxShardBytes).toBe(10);
    expect(resolveShardedOptions({ dir: 'd', fsync: true, mapSize: 0 }).durable).toEqual({
      dir: 'd',
      fsync: true,
      mapSize: 0,
    });
    expect(resolveShardedOptions({ dir: 'd', fsync: false, mapSize: 4096 }).durable).toEqual({
      dir: 'd',
      fsync: false,
      mapSize: 4096,
    });
  });

  it.each([
    [{ shards: 0 }, 'shards must be an integer from 1 to 256, got 0'],
    [{ shards: 257 }, 'shards must be an integer from 1 to 256'],
    [{ maxQueuedOps: 0 }, 'maxQueuedOps must be an integer >= 1, got 0'],
    [{ maxOpsPerFrame: 0 }, 'maxOpsPerFrame must be an integer >= 1, got 0'],
    [{ shardTimeoutMs: 0 }, 'shardTimeoutMs must be an integer from 1 to 2147483647'],
    [{ shardTimeoutMs: 2 ** 31 }, 'shardTimeoutMs must be an integer from 1 to 2147483647'],
    [{ resourceLimits: null }, 'resourceLimits must be an object (worker_threads ResourceLimits)'],
    [{ resourceLimits: 64 }, 'resourceLimits must be an object'],
    [{ fsync: true }, 'fsync and mapSize need dir (the directory of the session files)'],
    [{ mapSize: 10 }, 'fsync and mapSize need dir'],
    [{ dir: '' }, 'dir must be a non-empty string'],
    [{ dir: 5 }, 'dir must be a non-empty string'],
    [{ dir: 'd', fsync: 'yes' }, 'fsync must be a boolean, got yes'],
    [{ dir: 'd', mapSize: -1 }, 'mapSize must be an integer >= 0, got -1'],
    [{ url: 'redis://x' }, "unknown option 'url' of the 'sharded' provider"],
  ])('refuses %o', (options, message) => {
    expect(() => resolveShardedOptions(options as never)).toThrow(InvalidOptionError);
    expect(() => resolveShardedOptions(options as never)).toThrow(message);
  });
});

describe('the shard worker file', () => {
  it('is the built worker-entry.cjs (from sources, the one in dist/)', () => {
    const file = workerFilename();
    expect(file.endsWith('/dist/src/providers/sharded/worker-entry.cjs')).toBe(true);
    expect(existsSync(file)).toBe(true);
  });
});

describe('a shard’s user operations', () => {
  const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
  const T = 1_700_000_000_000;

  it('binds, lists, retimes and revokes, answering in the wire shapes the router decodes', () => {
    const table = new SessionTable(resolveLimits());
    const [a, b, c] = [generateSid(), generateSid(), generateSid()];
    for (const sid of [a, b, c]) table.init(sid, POLICY, undefined, T);
    const first = applyUserOp(table, [Op.BindUser, a, 'ann', 'laptop'], T) as unknown[];
    expect(first).toEqual(['ann', expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), 'laptop']);
    const second = applyUserOp(table, [Op.BindUser, b, 'ann', null], T + 1) as unknown[];
    expect(second).toEqual(['ann', expect.any(String), null]);
    expect(applyUserOp(table, [Op.BindUser, generateSid(), 'ann', null], T)).toBeNull();

    const listed = applyUserOp(table, [Op.SessionsOf, 'ann'], T + 2) as unknown[];
    expect(listed).toHaveLength(10);
    const handles = [listed[0], listed[5]];
    expect(handles.sort()).toEqual([first[1], second[1]].sort());
    const laptop = listed.indexOf(first[1]);
    expect(listed.slice(laptop + 1, laptop + 5)).toEqual([T, T, T + 60_000, 'laptop']);
    expect(listed[listed.indexOf(second[1]) + 4]).toBeNull();

    expect(applyUserOp(table, [Op.SetTimeouts, c, 1000, 5000], T + 10)).toEqual([T, T + 1010, T + 5000]);
    expect(applyUserOp(table, [Op.SetTimeouts, generateSid(), 1000, 5000], T)).toBeNull();

    expect(applyUserOp(table, [Op.Revoke, 'ann', first[1]], T + 3)).toBe(true);
    expect(applyUserOp(table, [Op.Revoke, 'ann', first[1]], T + 3)).toBe(false);
    expect(table.holds(a)).toBe(false);
    applyUserOp(table, [Op.BindUser, c, 'ann', null], T + 4);
    expect(applyUserOp(table, [Op.RevokeUser, 'ann', second[1]], T + 5)).toBe(1);
    expect(table.holds(b)).toBe(true);
    expect(table.holds(c)).toBe(false);
    expect(applyUserOp(table, [Op.RevokeUser, 'ann', null], T + 6)).toBe(1);
    expect(table.holds(b)).toBe(false);
  });

  it('refuses an operation it does not know with ERR_MALFORMED_FRAME', () => {
    const table = new SessionTable(resolveLimits());
    const attempt = () => applyUserOp(table, [Op.Read, generateSid()], T);
    expect(attempt).toThrow(SessionError);
    expect(attempt).toThrow(`unknown operation ${Op.Read}`);
    try {
      attempt();
    } catch (error) {
      expect((error as SessionError).code).toBe('ERR_MALFORMED_FRAME');
    }
  });
});
