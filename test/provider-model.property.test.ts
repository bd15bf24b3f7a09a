import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { SessionError } from '../src/errors.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import type {
  SessionDelta,
  SessionMeta,
  SessionProvider,
  SessionSnapshot,
} from '../src/providers/provider.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

/**
 * The same random sequence of operations goes into a tiny model of the contract, the 'memory' provider
 * and the 'sharded' provider with 2, 3 and 4 shards; every answer must be identical.
 */

const SIDS = Array.from({ length: 3 }, () => generateSid());
const KEYS = ['a', 'b', 'c'];
const POLICIES = [
  { idleTimeoutMs: 1000, absoluteTimeoutMs: 3000 },
  { idleTimeoutMs: 5000, absoluteTimeoutMs: 4000 },
];

type Value = { kind: 'num'; n: number } | { kind: 'text'; s: string };
type Command =
  | { op: 'init'; sid: number; policy: number; set: [number, Value][] }
  | { op: 'read'; sid: number }
  | { op: 'commit'; sid: number; set: [number, Value][]; del: number[] }
  | { op: 'incr'; sid: number; key: number; by: number }
  | { op: 'rename'; from: number; to: number }
  | { op: 'destroy'; sid: number }
  | { op: 'advance'; ms: number }
  | { op: 'gc' }
  | { op: 'count' };

const sidIndex = fc.integer({ min: 0, max: SIDS.length - 1 });
const keyIndex = fc.integer({ min: 0, max: KEYS.length - 1 });
const value: fc.Arbitrary<Value> = fc.oneof(
  fc.integer({ min: -100, max: 100 }).map((n) => ({ kind: 'num' as const, n })),
  fc.string({ maxLength: 4 }).map((s) => ({ kind: 'text' as const, s })),
);
const sets = fc.array(fc.tuple(keyIndex, value), { maxLength: 3 });
// Weighted towards operations on live sessions; time moves in steps shorter than the idle timeout, so
// sessions live long enough for later operations to find them.
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('init' as const),
      sid: sidIndex,
      policy: fc.integer({ min: 0, max: 1 }),
      set: sets,
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('read' as const), sid: sidIndex }), weight: 4 },
  {
    arbitrary: fc.record({
      op: fc.constant('commit' as const),
      sid: sidIndex,
      set: sets,
      del: fc.array(keyIndex, { maxLength: 2 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('incr' as const),
      sid: sidIndex,
      key: keyIndex,
      by: fc.integer({ min: -5, max: 5 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('rename' as const), from: sidIndex, to: sidIndex }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('destroy' as const), sid: sidIndex }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1200 }) }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('gc' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('count' as const) }), weight: 1 },
);

const encode = (v: Value) => encodeValue(v.kind === 'num' ? v.n : v.s);
const toDelta = (set: [number, Value][], del: number[] = []): SessionDelta => ({
  set: set.map(([k, v]) => [KEYS[k] as string, encode(v)] as const),
  delete: del.map((k) => KEYS[k] as string),
});

/** The contract in a few lines: what every provider must answer. */
class Model {
  private sessions = new Map<string, { values: Map<string, unknown>; meta: SessionMeta; idle: number }>();
  constructor(private readonly clock: () => number) {}

  private live(sid: string) {
    const s = this.sessions.get(sid);
    if (s && s.meta.expiresAt <= this.clock()) {
      this.sessions.delete(sid);
      return undefined;
    }
    return s;
  }
  private slide(s: { meta: SessionMeta; idle: number }) {
    const idleExpiresAt = this.clock() + s.idle;
    s.meta = { ...s.meta, idleExpiresAt, expiresAt: Math.min(idleExpiresAt, s.meta.absoluteExpiresAt) };
  }
  private apply(s: { values: Map<string, unknown> }, delta: SessionDelta) {
    for (const k of delta.delete ?? []) s.values.delete(k);
    for (const [k, v] of delta.set ?? []) s.values.set(k, decodeValue(v));
  }
  init(sid: string, policy: (typeof POLICIES)[number], delta: SessionDelta) {
    if (this.live(sid)) return { error: 'ERR_SESSION_EXISTS' };
    const now = this.clock();
    const idleExpiresAt = now + policy.idleTimeoutMs;
    const absoluteExpiresAt = now + policy.absoluteTimeoutMs;
    const s = {
      values: new Map(),
      idle: policy.idleTimeoutMs,
      meta: {
        createdAt: now,
        idleExpiresAt,
        absoluteExpiresAt,
        expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
      },
    };
    this.apply(s, delta);
    this.sessions.set(sid, s);
    return s.meta;
  }
  read(sid: string) {
    const s = this.live(sid);
    return s ? { ...s.meta, values: Object.fromEntries([...s.values].sort()) } : null;
  }
  commit(sid: string, delta: SessionDelta) {
    const s = this.live(sid);
    if (!s) return null;
    this.apply(s, delta);
    this.slide(s);
    return s.meta;
  }
  incr(sid: string, key: string, by: number) {
    const s = this.live(sid);
    if (!s) return null;
    const before = s.values.has(key) ? s.values.get(key) : 0;
    if (typeof before !== 'number') return { error: 'ERR_NOT_A_NUMBER' };
    s.values.set(key, before + by);
    this.slide(s);
    return before + by;
  }
  rename(from: string, to: string) {
    const s = this.live(from);
    if (!s) return null;
    if (from !== to && this.live(to)) return { error: 'ERR_SESSION_EXISTS' };
    this.sessions.delete(from);
    this.sessions.set(to, s);
    this.slide(s);
    return s.meta;
  }
  destroy(sid: string) {
    const s = this.live(sid);
    this.sessions.delete(sid);
    return s !== undefined;
  }
  gc() {
    let removed = 0;
    for (const sid of [...this.sessions.keys()]) {
      if (this.sessions.get(sid) && !this.live(sid)) removed++;
    }
    return removed;
  }
  count() {
    this.gc();
    return this.sessions.size;
  }
}

/** Runs one command on a provider, turning its answer into plain data. */
async function run(provider: SessionProvider, c: Command): Promise<unknown> {
  try {
    switch (c.op) {
      case 'init':
        return await provider.init(SIDS[c.sid] as string, POLICIES[c.policy] as never, toDelta(c.set));
      case 'read':
        return plainSnapshot(await provider.read(SIDS[c.sid] as string));
      case 'commit':
        return await provider.commit(SIDS[c.sid] as string, toDelta(c.set, c.del));
      case 'incr':
        return await provider.incr(SIDS[c.sid] as string, KEYS[c.key] as string, c.by);
      case 'rename':
        return await provider.rename(SIDS[c.from] as string, SIDS[c.to] as string);
      case 'destroy':
        return await provider.destroy(SIDS[c.sid] as string);
      case 'gc':
        return await provider.gc();
      case 'count':
        return await provider.count();
      case 'advance':
        return undefined;
    }
  } catch (error) {
    if (error instanceof SessionError) return { error: error.code };
    throw error;
  }
}

function runModel(model: Model, c: Command): unknown {
  switch (c.op) {
    case 'init':
      return model.init(SIDS[c.sid] as string, POLICIES[c.policy] as never, toDelta(c.set));
    case 'read':
      return model.read(SIDS[c.sid] as string);
    case 'commit':
      return model.commit(SIDS[c.sid] as string, toDelta(c.set, c.del));
    case 'incr':
      return model.incr(SIDS[c.sid] as string, KEYS[c.key] as string, c.by);
    case 'rename':
      return model.rename(SIDS[c.from] as string, SIDS[c.to] as string);
    case 'destroy':
      return model.destroy(SIDS[c.sid] as string);
    case 'gc':
      return model.gc();
    case 'count':
      return model.count();
    case 'advance':
      return undefined;
  }
}

function plainSnapshot(snapshot: SessionSnapshot | null) {
  if (!snapshot) return null;
  const { values, ...meta } = snapshot;
  const decoded = [...values].map(([k, v]) => [k, decodeValue(v)] as const).sort();
  return { ...meta, values: Object.fromEntries(decoded) };
}

describe('providers agree with the model', () => {
  let clock = 1_000_000;
  const now = () => clock;
  const sharded: ShardedProvider[] = [2, 3, 4].map((shards) =>
    createShardedProvider({ shards, now, gcIntervalMs: 0 }),
  );
  afterAll(async () => {
    await Promise.all(sharded.map((p) => p.close()));
  });

  it('gives identical answers for random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 60 }), async (commands) => {
        clock = 1_000_000;
        // Every run starts from empty stores: destroy what the last run left in the long-lived shards.
        await Promise.all(sharded.flatMap((p) => SIDS.map((sid) => p.destroy(sid))));
        const memory = createMemoryProvider({ now, gcIntervalMs: 0 });
        const model = new Model(now);
        try {
          for (const c of commands) {
            if (c.op === 'advance') clock += c.ms;
            const expected = runModel(model, c);
            const answers = await Promise.all([memory, ...sharded].map((p) => run(p, c)));
            for (const answer of answers) expect(answer).toEqual(expected);
          }
        } finally {
          await memory.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
