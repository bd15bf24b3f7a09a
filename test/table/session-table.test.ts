import { describe, expect, it } from 'vitest';
import { SessionExistsError } from '../../src/errors.js';
import { SESSION_OVERHEAD_BYTES } from '../../src/providers/eviction.js';
import { expiresAt, idleExpiresAt, LAYOUT, onProbation } from '../../src/providers/packed-record.js';
import { resolveLimits } from '../../src/providers/provider-options.js';
import type { SessionRecord } from '../../src/providers/session-record.js';
import { SessionTable } from '../../src/providers/session-table.js';
import { SidMap } from '../../src/providers/sid-map.js';
import { generateSid } from '../../src/sid.js';

// What a shard does with its table and the 'memory' provider never does: the change listener a durable shard
// writes through, `restore` from storage, and `take`/`put` across two tables (a rename between shards). The
// shards run them from dist/, out of Stryker's reach: these run the same table here. Written for the
// survivors of a Stryker run of the `table` group.

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 };
const value = (length: number) => new Uint8Array(length).fill(3);

function listened(limits = resolveLimits()) {
  const changes: [string, SessionRecord | undefined][] = [];
  const table = new SessionTable(limits, 100, (sid, record) => changes.push([sid, record]));
  /** The changes told since the last call, as `sid:written` or `sid:gone`. */
  const told = () => changes.splice(0).map(([sid, record]) => [sid, record === undefined ? 'gone' : record]);
  return { table, told };
}

describe('the change listener', () => {
  it('is told each record written, with its extras, and each session gone', () => {
    const { table, told } = listened(resolveLimits({ maxSessions: 2 }));
    const [a, b, c] = [generateSid(), generateSid(), generateSid()];
    table.init(a, POLICY, { set: [['k', value(2)]] }, 0);
    expect(told()).toEqual([[a, { packed: expect.any(String) }]]);
    table.commit(a, { set: [['n', value(1)]] }, 1);
    expect(told()).toEqual([[a, { packed: expect.any(String) }]]);
    expect(table.incr(a, 'count', 2, 2)).toBe(2);
    expect(told()).toEqual([[a, { packed: expect.any(String) }]]);
    const binding = table.users.bind(a, 'user', 'label', 3);
    expect(told()).toEqual([[a, { packed: expect.any(String), binding: { ...binding, boundAt: 3 } }]]);
    table.read(a, 4); // a read changes nothing stored (the probation flag is not stored)
    expect(told()).toEqual([]);
    table.init(b, POLICY, undefined, 5);
    table.init(c, POLICY, undefined, 6); // full: b, on probation, is evicted
    expect(told()).toEqual([
      [b, { packed: expect.any(String) }],
      [b, 'gone'],
      [c, { packed: expect.any(String) }],
    ]);
    expect(table.destroy(c, 7)).toBe(true);
    expect(told()).toEqual([[c, 'gone']]);
    expect(table.read(a, 4_000_000)).toBeUndefined(); // expired on access
    expect(told()).toEqual([[a, 'gone']]);
  });

  it('is told the record a commit wrote, not the one before', () => {
    const { table, told } = listened();
    const sid = generateSid();
    table.init(sid, POLICY, undefined, 0);
    told();
    table.commit(sid, { set: [['k', value(5)]] }, 10);
    const changes = told();
    expect(changes).toHaveLength(1);
    const record = changes[0]?.[1] as SessionRecord;
    // The same bytes as the table holds, but for the probation flag, which a read clears.
    expect(record.packed.slice(1)).toBe(table.read(sid, 10)?.slice(1));
    expect(idleExpiresAt(record.packed)).toBe(10 + POLICY.idleTimeoutMs);
  });

  it('is told of a rename as the old id gone and the new one written; of a sweep, each id gone', () => {
    const { table, told } = listened();
    const [a, b] = [generateSid(), generateSid()];
    table.init(a, POLICY, undefined, 0);
    told();
    table.rename(a, b, 1);
    expect(told()).toEqual([
      [a, 'gone'],
      [b, { packed: expect.any(String) }],
    ]);
    table.sweep(10_000_000);
    expect(told()).toEqual([[b, 'gone']]);
  });
});

describe('restore', () => {
  it('puts a stored record back, off probation and untold; replaces or forgets the one held', () => {
    const { table: source } = listened();
    const sid = generateSid();
    source.init(sid, POLICY, { set: [['k', value(4)]] }, 0);
    const record = source.take(sid, 1) as SessionRecord;
    expect(onProbation(record.packed)).toBe(true);

    const { table, told } = listened();
    table.restore(sid, record);
    expect(told()).toEqual([]);
    expect(table.counters.ops).toBe(0);
    expect(table.onProbation).toBe(0);
    expect(table.size).toBe(1);
    expect(table.bytes).toBe(SESSION_OVERHEAD_BYTES + record.packed.length);
    expect(table.read(sid, 2)).toBe(String.fromCharCode(LAYOUT) + record.packed.slice(1));
    table.restore(sid, record); // again: replaces, does not add
    expect([table.size, table.bytes]).toEqual([1, SESSION_OVERHEAD_BYTES + record.packed.length]);
    table.restore(sid, undefined);
    expect([table.size, table.bytes, table.holds(sid)]).toEqual([0, 0, false]);
    table.restore(generateSid(), undefined); // nothing held: nothing to forget
    expect(table.size).toBe(0);
    expect(told()).toEqual([]);
  });

  it('indexes a restored binding, and unindexes it when the record is forgotten', () => {
    const table = new SessionTable(resolveLimits());
    const sid = generateSid();
    const binding = { userId: 'ann', handle: 'handle-of-ann-0000000', boundAt: 5 };
    const packed = (() => {
      const source = new SessionTable(resolveLimits());
      source.init(sid, POLICY, undefined, 0);
      return (source.take(sid, 0) as SessionRecord).packed;
    })();
    table.restore(sid, { packed, binding, retimed: true });
    expect(table.extras(sid)).toEqual({ binding, retimed: true });
    expect(table.users.sessionsOf('ann', 1).map((s) => s.handle)).toEqual([binding.handle]);
    table.restore(sid, undefined);
    expect(table.users.sessionsOf('ann', 1)).toEqual([]);
    expect(table.users.userCount).toBe(0);
  });

  it('makes room by the eviction rule, counting nothing as expired (storage holds no clock)', () => {
    const source = new SessionTable(resolveLimits());
    const records = [1000, 3000, 2000].map((idleTimeoutMs) => {
      const sid = generateSid();
      source.init(sid, { idleTimeoutMs, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
      return [sid, source.take(sid, 0) as SessionRecord] as const;
    });
    const table = new SessionTable(resolveLimits({ maxSessions: 2 }));
    for (const [sid, record] of records) table.restore(sid, record);
    expect(table.counters).toMatchObject({ expired: 0, evicted: 1 });
    expect(records.map(([sid]) => table.holds(sid))).toEqual([false, true, true]); // the soonest went
  });
});

describe('take and put (a rename across tables)', () => {
  it('moves a record with its extras, sliding its idle deadline, off probation', () => {
    const [from, to] = [new SessionTable(resolveLimits()), new SessionTable(resolveLimits())];
    const [a, b] = [generateSid(), generateSid()];
    from.init(a, POLICY, { set: [['k', value(1)]] }, 0);
    from.users.bind(a, 'ann', undefined, 0);
    const record = from.take(a, 10) as SessionRecord;
    expect(from.holds(a)).toBe(false);
    expect(from.take(a, 10)).toBeUndefined();
    expect(from.counters.ops).toBe(3); // init, take, take
    expect(record.binding?.userId).toBe('ann');
    const meta = to.put(b, record, 20);
    expect(meta).toMatchObject({ createdAt: 0, idleExpiresAt: 20 + POLICY.idleTimeoutMs });
    expect(to.onProbation).toBe(0);
    expect(to.extras(b)?.binding?.userId).toBe('ann');
    expect(to.users.sessionsOf('ann', 21)).toHaveLength(1);
    expect(to.counters.ops).toBe(1);
  });

  it('puts a record back unchanged with slide false, and refuses a live id', () => {
    const table = new SessionTable(resolveLimits());
    const sid = generateSid();
    table.init(sid, POLICY, undefined, 0);
    const record = table.take(sid, 5) as SessionRecord;
    expect(table.put(sid, record, 50, false)).toMatchObject({ idleExpiresAt: POLICY.idleTimeoutMs });
    expect(expiresAt(table.read(sid, 60) as string)).toBe(POLICY.idleTimeoutMs);
    expect(() => table.put(sid, record, 70)).toThrow(SessionExistsError);
  });

  it('drops a bound record revoked while in transit', () => {
    const [from, to] = [new SessionTable(resolveLimits()), new SessionTable(resolveLimits())];
    const sid = generateSid();
    from.init(sid, POLICY, undefined, 0);
    const binding = from.users.bind(sid, 'ann', undefined, 1);
    const record = from.take(sid, 2) as SessionRecord;
    to.users.revoke('ann', binding?.handle as string, 3);
    expect(to.put(generateSid(), record, 4)).toBeNull();
    expect(to.size).toBe(0);
  });

  it('makes room for a put under maxSessions', () => {
    const table = new SessionTable(resolveLimits({ maxSessions: 1 }));
    const [held, moved] = [generateSid(), generateSid()];
    table.init(held, POLICY, undefined, 0);
    const source = new SessionTable(resolveLimits());
    source.init(moved, POLICY, undefined, 0);
    table.put(moved, source.take(moved, 0) as SessionRecord, 1);
    expect([table.holds(held), table.holds(moved), table.counters.evicted]).toEqual([false, true, 1]);
  });

  it('a rename onto a live id puts the old session back, off probation, and throws', () => {
    const table = new SessionTable(resolveLimits());
    const [a, b] = [generateSid(), generateSid()];
    table.init(a, POLICY, undefined, 0);
    table.init(b, POLICY, undefined, 0);
    expect(() => table.rename(a, b, 1)).toThrow(SessionExistsError);
    expect([table.holds(a), table.holds(b), table.size, table.onProbation]).toEqual([true, true, 2, 1]);
    expect(table.rename(generateSid(), b, 1)).toBeNull();
  });
});

describe('extras', () => {
  it('go with their session: the same id made again after a destroy has none', () => {
    const table = new SessionTable(resolveLimits());
    const sid = generateSid();
    table.init(sid, POLICY, undefined, 0);
    table.users.bind(sid, 'ann', 'phone', 1);
    expect(table.extras(sid)?.binding?.userId).toBe('ann');
    table.destroy(sid, 2);
    table.init(sid, POLICY, undefined, 3);
    expect(table.extras(sid)).toBeUndefined();
    expect(table.bytes).toBe(SESSION_OVERHEAD_BYTES + (table.read(sid, 4) as string).length);
  });
});

describe('the id map', () => {
  it('counts what it holds: a set over a held id adds nothing, a delete of an id not held takes nothing', () => {
    const map = new SidMap<number>();
    const [a, b] = [generateSid(), generateSid()];
    map.set(a, 1);
    map.set(a, 2);
    map.set(b, 3);
    expect([map.size, map.get(a), map.get(b)]).toEqual([2, 2, 3]);
    expect(map.delete(generateSid())).toBe(false);
    expect(map.size).toBe(2);
    expect(map.delete(a)).toBe(true);
    expect(map.delete(a)).toBe(false);
    expect([map.size, map.get(a)]).toEqual([1, undefined]);
  });
});

describe('count', () => {
  it('leaves out a session whose deadline is exactly now, without sweeping it', () => {
    const table = new SessionTable(resolveLimits());
    table.init(generateSid(), { idleTimeoutMs: 150, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.init(generateSid(), POLICY, undefined, 0);
    expect(table.count(149)).toBe(2);
    expect(table.count(150)).toBe(1);
    expect(table.size).toBe(2);
  });
});
