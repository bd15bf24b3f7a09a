import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import type { SessionDelta, SessionProvider, SessionSnapshot } from '../src/providers/provider.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).

/**
 * The read cache is invisible: a provider with a tiny cache (a few sessions per shard, so it evicts all the
 * time) gives, operation by operation, the answers of the same provider without one. Both run the same random
 * sequences on the same ids at the same fake clock, with few sessions per shard (`maxSessions`), so shards
 * evict sessions the cache holds; some steps are bursts sent in one turn without awaiting (a read racing a
 * commit, an incr, a destroy in flight). Any stale snapshot served makes the answers differ. Read-writes (read,
 * then commit several keys or incr, then read again, the clock moved first) check the copy a change's answer
 * refreshes (cache-refresh.ts): its deadlines, its values and their order, which reads compare as lists.
 */

const SLOTS = 5;
const USERS = ['ann', 'bob'] as const;
/** Per shard: room for two small sessions (fewer than a shard holds), so the cache evicts all the time. */
const CACHE_BYTES_PER_SHARD = 1500;

type Step =
  | { op: 'init'; slot: number; value: number }
  | { op: 'read'; slot: number; times: number }
  | { op: 'commit'; slot: number; changes: Change[] }
  | { op: 'incr'; slot: number }
  | { op: 'readWrite'; slot: number; incr: boolean; changes: Change[]; ms: number }
  | { op: 'destroy'; slot: number }
  | { op: 'rename'; from: number; to: number }
  | { op: 'setTimeouts'; slot: number; idleMs: number }
  | { op: 'bindUser'; slot: number; user: number }
  | { op: 'revokeUser'; user: number }
  | { op: 'gc' }
  | { op: 'count' }
  | { op: 'advance'; ms: number }
  | { op: 'burst'; steps: Step[] };

/** A key set to a value, or deleted (null); a commit of several sets and deletes the same key more than once. */
type Change = readonly ['a' | 'b' | 'c', number | null];

const slot = fc.integer({ min: 0, max: SLOTS - 1 });
const changes = fc.array(
  fc.tuple(fc.constantFrom('a' as const, 'b' as const, 'c' as const), fc.option(fc.nat(99), { nil: null })),
  { minLength: 1, maxLength: 4 },
);
const single: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('init' as const), slot, value: fc.nat(9) }), weight: 4 },
  // Read again and again (each awaited): what a client coming back does, and what the cache answers.
  {
    arbitrary: fc.record({ op: fc.constant('read' as const), slot, times: fc.integer({ min: 1, max: 3 }) }),
    weight: 8,
  },
  {
    arbitrary: fc.record({ op: fc.constant('commit' as const), slot, changes }),
    weight: 3,
  },
  // What a request does: read, change, and the client's next request reads again (a refreshed copy).
  {
    arbitrary: fc.record({
      op: fc.constant('readWrite' as const),
      slot,
      incr: fc.boolean(),
      changes,
      ms: fc.constantFrom(0, 500, 3_000),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('incr' as const), slot }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('destroy' as const), slot }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('rename' as const), from: slot, to: slot }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('setTimeouts' as const),
      slot,
      idleMs: fc.constantFrom(2_000, 20_000),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('bindUser' as const), slot, user: fc.nat(USERS.length - 1) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('revokeUser' as const), user: fc.nat(USERS.length - 1) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('gc' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('count' as const) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 500, 3_000, 8_000) }),
    weight: 2,
  },
);
/**
 * A burst works on one session (plus gc, count, revokeUser): the order of operations on one id is what the
 * provider promises. A cached read racing an unacknowledged write to *another* session may be answered as if
 * it came first (it overlaps that write), which a comparison with the uncached provider would count as a
 * difference although both answers are linearizable.
 */
function onSlot(s: Step, at: number): Step | undefined {
  if (s.op === 'rename' || s.op === 'advance' || s.op === 'burst') return undefined;
  return 'slot' in s ? { ...s, slot: at } : s;
}
const burst: fc.Arbitrary<Step> = fc
  .record({ at: slot, steps: fc.array(single, { minLength: 2, maxLength: 6 }) })
  .map(({ at, steps }) => ({
    op: 'burst' as const,
    steps: steps.map((s) => onSlot(s, at)).filter((s): s is Step => s !== undefined),
  }));
const step: fc.Arbitrary<Step> = fc.oneof({ arbitrary: single, weight: 4 }, { arbitrary: burst, weight: 1 });

const policy = { idleTimeoutMs: 10_000, absoluteTimeoutMs: 30_000 };

/** The delta of a list of changes: its sets and its deletes, each in the list's order. */
function deltaOf(list: readonly Change[]): SessionDelta {
  return {
    set: list.flatMap(([key, value]) => (value === null ? [] : [[key, encodeValue(value)] as const])),
    delete: list.flatMap(([key, value]) => (value === null ? [key] : [])),
  };
}

/** A read's answer as plain data: values as a list, in the order the read gives them; the handle blanked. */
function plainRead(snapshot: SessionSnapshot | null): unknown {
  if (snapshot === null) return null;
  const binding = snapshot.binding && { ...snapshot.binding, handle: 'h' };
  return { ...snapshot, values: [...snapshot.values].map(([k, v]) => [k, [...v]]), binding };
}

/** Runs one step; its answer as plain data (random binding handles blanked, errors by code). */
async function run(p: SessionProvider, sids: readonly string[], s: Step): Promise<unknown> {
  const sid = (i: number) => sids[i] as string;
  try {
    switch (s.op) {
      case 'init':
        return await p.init(sid(s.slot), policy, { set: [['a', encodeValue(s.value)]] });
      case 'read': {
        const answers: unknown[] = [];
        for (let i = 0; i < s.times; i++) answers.push(plainRead(await p.read(sid(s.slot))));
        return answers;
      }
      case 'commit':
        return await p.commit(sid(s.slot), deltaOf(s.changes));
      case 'readWrite': {
        const before = plainRead(await p.read(sid(s.slot)));
        const written = await (s.incr
          ? p.incr(sid(s.slot), 'n', 1)
          : p.commit(sid(s.slot), deltaOf(s.changes)));
        return [before, written, plainRead(await p.read(sid(s.slot)))];
      }
      case 'incr':
        return await p.incr(sid(s.slot), 'n', 1);
      case 'destroy':
        return await p.destroy(sid(s.slot));
      case 'rename':
        return await p.rename(sid(s.from), sid(s.to));
      case 'setTimeouts':
        return await p.setTimeouts?.(sid(s.slot), { idleTimeoutMs: s.idleMs, absoluteTimeoutMs: 40_000 });
      case 'bindUser': {
        const binding = await p.bindUser?.(sid(s.slot), USERS[s.user] as string);
        return binding && { ...binding, handle: 'h' };
      }
      case 'revokeUser':
        return await p.revokeUser?.(USERS[s.user] as string);
      case 'gc':
        return await p.gc();
      case 'count':
        return await p.count();
      case 'advance':
        return undefined; // the caller moves the clock both providers share
      case 'burst':
        // Sent in one turn, none awaited before the next is sent: they share frames and race.
        return await Promise.all(s.steps.map((inner) => run(p, sids, inner)));
    }
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

/** Three sessions on one shard of room for two: the third's init evicts a session the cache holds. */
const EVICTS_A_CACHED_SESSION: Step[] = [
  { op: 'init', slot: 0, value: 1 },
  { op: 'advance', ms: 500 },
  { op: 'init', slot: 1, value: 2 },
  { op: 'read', slot: 0, times: 2 },
  { op: 'read', slot: 1, times: 2 },
  { op: 'init', slot: 2, value: 3 },
  { op: 'read', slot: 0, times: 2 },
  { op: 'read', slot: 1, times: 2 },
];

/** A revocation not awaited, then a read of a session it ends, in one turn: the read must come after it. */
const READ_RACES_A_REVOCATION: Step[] = [
  { op: 'init', slot: 3, value: 1 },
  { op: 'bindUser', slot: 3, user: 0 },
  { op: 'read', slot: 3, times: 2 },
  {
    op: 'burst',
    steps: [
      { op: 'revokeUser', user: 0 },
      { op: 'read', slot: 3, times: 1 },
    ],
  },
];

describe.each([1, 2])(
  "'sharded' read cache, %i shard(s): the answers of a provider without one",
  (shards) => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const options = {
      shards,
      now: () => clock.t,
      gcIntervalMs: 0,
      maxSessions: 2, // per shard: inits evict sessions the cache holds (the shard must say so)
    };
    const cached: ShardedProvider = createShardedProvider({
      ...options,
      readCacheBytes: shards * CACHE_BYTES_PER_SHARD,
    });
    const plain: ShardedProvider = createShardedProvider({ ...options, readCacheBytes: 0 });
    afterAll(async () => {
      await Promise.all([cached.close(), plain.close()]);
    });

    it('answers every random sequence (bursts, evictions, expiry, users) as the uncached provider does', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
          const sids = Array.from({ length: SLOTS }, () => generateSid());
          try {
            for (const [at, s] of steps.entries()) {
              // A read-write moves the clock first: the copy it reads was filed earlier, its deadlines must slide.
              if (s.op === 'advance' || s.op === 'readWrite') clock.t += s.ms;
              const expected = await run(plain, sids, s);
              const answer = await run(cached, sids, s);
              expect(answer, `step ${at}: ${JSON.stringify(s)}`).toEqual(expected);
            }
            for (const shard of await cached.stats()) {
              expect(shard.readCacheBytes).toBeLessThanOrEqual(CACHE_BYTES_PER_SHARD);
            }
          } finally {
            await Promise.all(sids.flatMap((sid) => [cached.destroy(sid), plain.destroy(sid)]));
          }
        }),
        { numRuns: 100, examples: [[EVICTS_A_CACHED_SESSION], [READ_RACES_A_REVOCATION]] },
      );
      // The comparison meant something: reads were answered by the cache (the examples alone make 3 hits).
      const stats = await cached.stats();
      expect(stats.reduce((sum, s) => sum + (s.readCacheHits ?? 0), 0)).toBeGreaterThanOrEqual(3);
    });
  },
);
