import fc from 'fast-check';
import { decodeValue, encodeValue } from '../../codec.js';
import type { SessionDelta, SessionMeta, SessionPolicy } from '../../providers/provider.js';

/**
 * The contract in a few lines, and random sequences of operations to feed it and a provider alike. Time is
 * in whole seconds and the timeouts are several seconds long, so a store that also keeps real TTLs is not
 * caught out by the real time a sequence takes.
 */

/** How many session ids and keys a sequence plays with: few, so operations meet the same sessions. */
export const SESSION_SLOTS = 3;
export const KEYS = ['a', 'b', 'c'];
export const POLICIES: SessionPolicy[] = [
  { idleTimeoutMs: 5000, absoluteTimeoutMs: 15_000 },
  // The absolute deadline before the idle one.
  { idleTimeoutMs: 25_000, absoluteTimeoutMs: 20_000 },
];

export type Value = { kind: 'num'; n: number } | { kind: 'text'; s: string };
export type Command =
  | { op: 'init'; sid: number; policy: number; set: [number, Value][] }
  | { op: 'read'; sid: number }
  | { op: 'commit'; sid: number; set: [number, Value][]; del: number[] }
  | { op: 'incr'; sid: number; key: number; by: number }
  | { op: 'rename'; from: number; to: number }
  | { op: 'destroy'; sid: number }
  | { op: 'advance'; ms: number }
  | { op: 'gc' }
  | { op: 'count' };

const sidIndex = fc.integer({ min: 0, max: SESSION_SLOTS - 1 });
const keyIndex = fc.integer({ min: 0, max: KEYS.length - 1 });
const value: fc.Arbitrary<Value> = fc.oneof(
  fc.integer({ min: -100, max: 100 }).map((n) => ({ kind: 'num' as const, n })),
  fc.string({ maxLength: 4 }).map((s) => ({ kind: 'text' as const, s })),
);
const sets = fc.array(fc.tuple(keyIndex, value), { maxLength: 3 });

/**
 * One random operation, weighted towards operations on live sessions; the clock moves in steps of up to 1.2
 * idle timeouts of the first policy, so sessions often live long enough for later operations to find them.
 */
export const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('init' as const),
      sid: sidIndex,
      policy: fc.integer({ min: 0, max: POLICIES.length - 1 }),
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
    arbitrary: fc
      .integer({ min: 0, max: 6 })
      .map((seconds) => ({ op: 'advance' as const, ms: seconds * 1000 })),
    weight: 3,
  },
  { arbitrary: fc.constant({ op: 'gc' as const }), weight: 1 },
  { arbitrary: fc.constant({ op: 'count' as const }), weight: 1 },
);

const encode = (v: Value) => encodeValue(v.kind === 'num' ? v.n : v.s);

/** A command's delta, with real encoded values. */
export function toDelta(set: [number, Value][], del: number[] = []): SessionDelta {
  return {
    set: set.map(([key, v]) => [KEYS[key] as string, encode(v)] as const),
    delete: del.map((key) => KEYS[key] as string),
  };
}

interface ModelSession {
  values: Map<string, unknown>;
  meta: SessionMeta;
  idleTimeoutMs: number;
}

/** What every provider must answer, as plain data (`{ error: code }` for a typed error). */
export class Model {
  readonly #sessions = new Map<string, ModelSession>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  init(sid: string, policy: SessionPolicy, delta: SessionDelta) {
    if (this.#live(sid)) return { error: 'ERR_SESSION_EXISTS' };
    const now = this.#now();
    const idleExpiresAt = now + policy.idleTimeoutMs;
    const absoluteExpiresAt = now + policy.absoluteTimeoutMs;
    const expiresAt = Math.min(idleExpiresAt, absoluteExpiresAt);
    const session = {
      values: new Map(),
      idleTimeoutMs: policy.idleTimeoutMs,
      meta: { createdAt: now, idleExpiresAt, absoluteExpiresAt, expiresAt },
    };
    apply(session, delta);
    this.#sessions.set(sid, session);
    return session.meta;
  }

  read(sid: string) {
    const session = this.#live(sid);
    return session ? { ...session.meta, values: Object.fromEntries([...session.values].sort()) } : null;
  }

  commit(sid: string, delta: SessionDelta) {
    const session = this.#live(sid);
    if (!session) return null;
    apply(session, delta);
    this.#slide(session);
    return session.meta;
  }

  incr(sid: string, key: string, by: number) {
    const session = this.#live(sid);
    if (!session) return null;
    const before = session.values.has(key) ? session.values.get(key) : 0;
    if (typeof before !== 'number') return { error: 'ERR_NOT_A_NUMBER' };
    session.values.set(key, before + by);
    this.#slide(session);
    return before + by;
  }

  rename(from: string, to: string) {
    const session = this.#live(from);
    if (!session) return null;
    if (from !== to && this.#live(to)) return { error: 'ERR_SESSION_EXISTS' };
    this.#sessions.delete(from);
    this.#sessions.set(to, session);
    this.#slide(session);
    return session.meta;
  }

  destroy(sid: string) {
    const session = this.#live(sid);
    this.#sessions.delete(sid);
    return session !== undefined;
  }

  gc() {
    let removed = 0;
    for (const sid of [...this.#sessions.keys()]) if (!this.#live(sid)) removed++;
    return removed;
  }

  /** Live sessions, without removing the expired ones: a provider's count() does not sweep, so a gc() after it
   * still finds them (a model that swept here expected gc() to remove none). */
  count() {
    let live = 0;
    for (const session of this.#sessions.values()) if (session.meta.expiresAt > this.#now()) live++;
    return live;
  }

  #live(sid: string): ModelSession | undefined {
    const session = this.#sessions.get(sid);
    if (session && session.meta.expiresAt <= this.#now()) {
      this.#sessions.delete(sid);
      return undefined;
    }
    return session;
  }

  #slide(session: ModelSession): void {
    const idleExpiresAt = this.#now() + session.idleTimeoutMs;
    const expiresAt = Math.min(idleExpiresAt, session.meta.absoluteExpiresAt);
    session.meta = { ...session.meta, idleExpiresAt, expiresAt };
  }
}

/** Deletes first, then sets: the order every provider applies a delta in. */
function apply(session: { values: Map<string, unknown> }, delta: SessionDelta): void {
  for (const key of delta.delete ?? []) session.values.delete(key);
  for (const [key, v] of delta.set ?? []) session.values.set(key, decodeValue(v));
}
