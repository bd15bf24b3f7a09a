import { describe, expect, it } from 'vitest';
import { BINDING_OVERHEAD_BYTES, footprint, SESSION_OVERHEAD_BYTES } from '../../src/providers/eviction.js';
import { resolveLimits } from '../../src/providers/provider-options.js';
import { SessionTable } from '../../src/providers/session-table.js';
import { generateSid } from '../../src/sid.js';

// The eviction policy of a table (eviction.ts, probation.ts) through the table: exact byte accounts, the
// order of victims at its edges (a deadline exactly now, the session being written, nobody left to evict)
// and the probation queue's length. Written for the survivors of a Stryker run of the `table` group: the
// eviction rule's own tests are in the long tier (engine-flood.test.ts, engine-budget.test.ts).

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 };
// An empty record is its head: layout byte, three float64, and 60,001 (the idle timeout + 1) as a 3-byte varint.
const EMPTY_RECORD_BYTES = 1 + 3 * 8 + 3;
const value = (length: number) => new Uint8Array(length).fill(7);

/** The record a table holds for `sid` (a read takes it off probation: the same length). */
function recordLength(table: SessionTable, sid: string, now: number): number {
  return (table.read(sid, now) as string).length;
}

describe('footprint', () => {
  it('is the record plus the overhead, and a binding adds its overhead and its strings', () => {
    const packed = 'x'.repeat(50);
    expect(footprint(packed, undefined)).toBe(SESSION_OVERHEAD_BYTES + 50);
    expect(footprint(packed, { retimed: true })).toBe(SESSION_OVERHEAD_BYTES + 50);
    const binding = { userId: 'user', handle: 'hh', boundAt: 0 };
    expect(footprint(packed, { binding })).toBe(SESSION_OVERHEAD_BYTES + 50 + BINDING_OVERHEAD_BYTES + 4 + 2);
    expect(footprint(packed, { binding: { ...binding, label: 'abc' }, retimed: true })).toBe(
      SESSION_OVERHEAD_BYTES + 50 + BINDING_OVERHEAD_BYTES + 4 + 2 + 3,
    );
  });
});

describe("a table's byte account", () => {
  it('is the sum of its sessions’ footprints through init, commit, bind, rebind and removal', () => {
    const table = new SessionTable(resolveLimits());
    const [a, b] = [generateSid(), generateSid()];
    table.init(a, POLICY, { set: [['k', value(3)]] }, 0);
    table.init(b, POLICY, undefined, 0);
    const bytesOf = () => 2 * SESSION_OVERHEAD_BYTES + recordLength(table, a, 1) + recordLength(table, b, 1);
    expect(table.bytes).toBe(bytesOf());
    table.commit(a, { set: [['grown', value(40)]] }, 2);
    expect(table.bytes).toBe(bytesOf());
    table.commit(a, { delete: ['grown'] }, 3);
    expect(table.bytes).toBe(bytesOf());
    const bound = table.users.bind(a, 'user-1', 'a phone', 4);
    const bindingBytes = BINDING_OVERHEAD_BYTES + 'user-1'.length + (bound?.handle.length ?? 0);
    expect(table.bytes).toBe(bytesOf() + bindingBytes + 'a phone'.length);
    table.users.bind(a, 'user-1', 'a much longer label', 5); // relabelled
    expect(table.bytes).toBe(bytesOf() + bindingBytes + 'a much longer label'.length);
    table.users.bind(a, 'user-22', undefined, 6); // bound to another user: a new binding, no label
    const rebound = table.extras(a)?.binding;
    expect(table.bytes).toBe(
      bytesOf() + BINDING_OVERHEAD_BYTES + 'user-22'.length + (rebound?.handle.length ?? 0),
    );
    expect(table.destroy(a, 7)).toBe(true);
    expect(table.bytes).toBe(SESSION_OVERHEAD_BYTES + recordLength(table, b, 7));
    expect(table.destroy(b, 8)).toBe(true);
    expect(table.bytes).toBe(0);
  });
});

describe('the eviction rule at its edges', () => {
  it('counts a session whose deadline is exactly now as expired, not evicted', () => {
    const table = new SessionTable(resolveLimits({ maxSessions: 2 }));
    const [ending, staying] = [generateSid(), generateSid()];
    table.init(ending, { idleTimeoutMs: 1000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.init(staying, POLICY, undefined, 0);
    table.read(ending, 0); // both came back: neither is on probation
    table.read(staying, 0);
    table.init(generateSid(), POLICY, undefined, 1000); // `ending` expires at 1000
    expect(table.counters).toMatchObject({ expired: 1, evicted: 0 });
    expect(table.holds(ending)).toBe(false);
    expect(table.holds(staying)).toBe(true);
  });

  it('evicts the soonest to expire of the sessions read again when none is on probation', () => {
    const table = new SessionTable(resolveLimits({ maxSessions: 2 }));
    const [later, sooner] = [generateSid(), generateSid()];
    table.init(later, { idleTimeoutMs: 5000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.init(sooner, { idleTimeoutMs: 2000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.read(later, 1);
    table.read(sooner, 1);
    table.init(generateSid(), POLICY, undefined, 1000);
    expect(table.counters).toMatchObject({ expired: 0, evicted: 1 });
    expect(table.holds(sooner)).toBe(false);
    expect(table.holds(later)).toBe(true);
  });

  it('makes room for a new session under the byte budget, to the byte', () => {
    const empty = SESSION_OVERHEAD_BYTES + EMPTY_RECORD_BYTES;
    const table = new SessionTable(resolveLimits({ maxShardBytes: 2 * empty }));
    const [first, second, third] = [generateSid(), generateSid(), generateSid()];
    table.init(first, POLICY, undefined, 0);
    table.init(second, POLICY, undefined, 1); // exactly at the budget: nobody goes
    expect([table.bytes, table.counters.evicted]).toEqual([2 * empty, 0]);
    table.init(third, POLICY, undefined, 2); // one more would be over: the oldest on probation goes first
    expect([table.holds(first), table.holds(second), table.holds(third)]).toEqual([false, true, true]);
    expect([table.bytes, table.counters.evicted]).toEqual([2 * empty, 1]);
  });

  it('never evicts the session a commit grows past the budget, even the oldest on probation', () => {
    const table = new SessionTable(resolveLimits({ maxShardBytes: 3 * SESSION_OVERHEAD_BYTES + 600 }));
    const [writer, kept, flood] = [generateSid(), generateSid(), generateSid()];
    table.init(writer, POLICY, undefined, 0); // on probation, the oldest there
    table.init(kept, POLICY, undefined, 1);
    table.read(kept, 2); // off probation: its id stays queued, stale, between the writer and the flood
    table.init(flood, POLICY, undefined, 3); // on probation
    table.commit(writer, { set: [['big', value(600)]] }, 4);
    expect(table.counters.evicted).toBe(1);
    expect([table.holds(writer), table.holds(flood), table.holds(kept)]).toEqual([true, false, true]);
    expect(table.onProbation).toBe(1); // the writer, never read
  });

  it('never evicts the session a commit grows, even the soonest to expire when none is on probation', () => {
    const table = new SessionTable(resolveLimits({ maxShardBytes: 3 * SESSION_OVERHEAD_BYTES + 600 }));
    const [writer, other, last] = [generateSid(), generateSid(), generateSid()];
    table.init(writer, { idleTimeoutMs: 1000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.init(other, { idleTimeoutMs: 2000, absoluteTimeoutMs: 3_600_000 }, undefined, 0);
    table.init(last, POLICY, undefined, 0);
    for (const sid of [writer, other, last]) table.read(sid, 1);
    table.commit(writer, { set: [['big', value(600)]] }, 2); // slid to 1,002: still the soonest
    expect([table.holds(writer), table.holds(other), table.holds(last)]).toEqual([true, false, true]);
    expect(table.counters).toMatchObject({ expired: 0, evicted: 1 });
  });

  it('keeps a session that alone is over the budget: there is nobody else to evict', () => {
    const table = new SessionTable(resolveLimits({ maxShardBytes: SESSION_OVERHEAD_BYTES + 100 }));
    const sid = generateSid();
    table.init(sid, POLICY, undefined, 0);
    expect(table.commit(sid, { set: [['big', value(500)]] }, 1)).not.toBeNull();
    expect(table.bytes).toBeGreaterThan(table.maxBytes);
    expect(table.holds(sid)).toBe(true);
    expect(table.counters).toMatchObject({ expired: 0, evicted: 0 });
  });
});

describe('the probation queue', () => {
  it('counts sessions on probation, and drops two stale ids at its head per new session', () => {
    const table = new SessionTable(resolveLimits());
    const sids = Array.from({ length: 10 }, () => generateSid());
    for (const sid of sids) table.init(sid, POLICY, undefined, 0);
    expect([table.onProbation, table.probationQueued]).toEqual([10, 10]);
    for (const sid of sids.slice(0, 5)) table.read(sid, 1); // five stale ids at the head
    table.read(sids[1] as string, 1); // read again: it left probation once
    table.destroy(sids[0] as string, 1); // not on probation
    table.destroy(sids[9] as string, 1); // on probation, at the tail
    expect([table.onProbation, table.probationQueued]).toEqual([4, 10]);
    const queued: number[] = [];
    for (let i = 0; i < 4; i++) {
      table.init(generateSid(), POLICY, undefined, 2);
      queued.push(table.probationQueued);
    }
    // 10 - 2 + 1, then - 2 + 1, then one stale id left at the head: - 1 + 1; then the head is live.
    expect(queued).toEqual([9, 8, 8, 9]);
    expect(table.onProbation).toBe(8);
  });

  it('passes over the session being written to the next chunk of the queue', () => {
    const chunk = 4096; // ids per chunk of the queue (probation.ts)
    const empty = SESSION_OVERHEAD_BYTES + EMPTY_RECORD_BYTES;
    const table = new SessionTable(resolveLimits({ maxShardBytes: (chunk + 1) * empty + 100 }));
    const sids = Array.from({ length: chunk + 1 }, () => generateSid());
    for (const sid of sids) table.init(sid, POLICY, undefined, 0);
    for (const sid of sids.slice(0, chunk - 1)) table.read(sid, 1); // all of the first chunk stale but its last
    const [writer, next] = [sids[chunk - 1] as string, sids[chunk] as string];
    table.commit(writer, { set: [['big', value(300)]] }, 2); // over the budget by less than one session
    expect(table.counters.evicted).toBe(1);
    expect([table.holds(writer), table.holds(next)]).toEqual([true, false]);
  });

  it('finds the oldest session on probation past a whole chunk of stale ids', () => {
    const chunk = 4096; // ids per chunk of the queue (probation.ts)
    const total = chunk + 10;
    const table = new SessionTable(resolveLimits({ maxSessions: total }));
    const sids = Array.from({ length: total }, () => generateSid());
    for (const sid of sids) table.init(sid, POLICY, undefined, 0);
    for (const sid of sids.slice(0, chunk + 1)) table.read(sid, 1);
    table.init(generateSid(), POLICY, undefined, 2);
    expect(table.counters.evicted).toBe(1);
    expect(table.holds(sids[chunk + 1] as string)).toBe(false);
    expect(table.holds(sids[chunk] as string)).toBe(true);
    expect(table.onProbation).toBe(total - chunk - 2 + 1);
  });
});
