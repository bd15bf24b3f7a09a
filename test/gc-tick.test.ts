import { afterEach, describe, expect, it, vi } from 'vitest';
import { GcTick } from '../src/providers/gc-tick.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { generateSid } from '../src/sid.js';

// The GC tick of a table, in this thread: the 'memory' provider runs one, and each shard runs one from dist/,
// where no test of src/ sees it. A slice budget of 0 ms makes the slices deterministic: the sweep looks at the
// clock every 64 removals (expiry-sweep.ts) and is then always out of time, so 200 expired sessions are
// swept in slices of 64, 64, 64 and 8, one per event-loop turn.

const SESSIONS = 200;
const policy = { idleTimeoutMs: 1000, absoluteTimeoutMs: 10_000 };

/** A table holding `SESSIONS` sessions, all expired at the returned time. */
function expiredTable(): { table: SessionTable; later: number } {
  const table = new SessionTable(resolveLimits());
  for (let i = 0; i < SESSIONS; i++) table.init(generateSid(), policy, undefined, 0);
  return { table, later: 60_000 };
}

/** One event-loop turn: a slice scheduled before this call (setImmediate) has run when it resolves. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('GcTick', () => {
  it('sweeps in slices, one per turn, counting each and calling afterSlice after each; a sweep under way is not started twice', async () => {
    const { table, later } = expiredTable();
    let afterSlices = 0;
    const tick = new GcTick(
      table,
      () => later,
      1000,
      0,
      () => afterSlices++,
    );
    tick.sweep();
    expect([table.size, table.counters.gcSweeps, afterSlices]).toEqual([136, 1, 1]);
    tick.sweep(); // one is under way: no second chain of slices
    expect([table.size, table.counters.gcSweeps]).toEqual([136, 1]);
    await nextTurn();
    expect([table.size, table.counters.gcSweeps]).toEqual([72, 2]);
    await nextTurn();
    await nextTurn();
    expect([table.size, table.counters.gcSweeps, afterSlices]).toEqual([0, 4, 4]);
    await nextTurn();
    expect(table.counters.gcSweeps).toBe(4); // done: no slice after the last
    tick.sweep(); // the sweep ended, so a new one starts (one slice: nothing left)
    expect([table.counters.gcSweeps, afterSlices]).toEqual([5, 5]);
    await nextTurn();
    expect(table.counters.gcSweeps).toBe(5);
  });

  it("records the longest slice's duration, measured around the slice", () => {
    const { table, later } = expiredTable();
    const tick = new GcTick(table, () => later, 1000, Number.POSITIVE_INFINITY);
    const before = performance.now();
    tick.sweep(); // one slice: an infinite budget sweeps all 200
    const elapsed = performance.now() - before;
    expect(table.size).toBe(0);
    expect(table.counters.gcMaxSliceMs).toBeGreaterThan(0);
    expect(table.counters.gcMaxSliceMs).toBeLessThanOrEqual(elapsed);
    table.counters.gcMaxSliceMs = elapsed + 1000; // a longer slice seen before: kept
    tick.sweep();
    expect(table.counters.gcMaxSliceMs).toBe(elapsed + 1000);
  });

  it('sweeps with the time it is given, not the time of the table', () => {
    const { table } = expiredTable();
    const tick = new GcTick(table, () => 500, 1000, Number.POSITIVE_INFINITY);
    tick.sweep();
    expect(table.size).toBe(SESSIONS); // none expired yet at 500 ms
  });

  it('stop() ends a sweep under way at its next slice, and refuses new ones', async () => {
    const { table, later } = expiredTable();
    const tick = new GcTick(table, () => later, 1000, 0);
    tick.sweep();
    tick.stop();
    await nextTurn();
    await nextTurn();
    expect([table.size, table.counters.gcSweeps]).toEqual([136, 1]);
    tick.sweep();
    expect([table.size, table.counters.gcSweeps]).toEqual([136, 1]);
  });

  it('start() sets one interval timer that sweeps, only once however often called; stop() clears it', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { table, later } = expiredTable();
    const tick = new GcTick(table, () => later, 50, Number.POSITIVE_INFINITY);
    tick.start();
    tick.start();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(49);
    expect(table.counters.gcSweeps).toBe(0);
    vi.advanceTimersByTime(1);
    expect([table.size, table.counters.gcSweeps]).toEqual([0, 1]);
    vi.advanceTimersByTime(50);
    expect(table.counters.gcSweeps).toBe(2); // every interval, not once
    tick.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('start() leaves the process free to exit: its timer keeps nothing alive', () => {
    const { table, later } = expiredTable();
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const tick = new GcTick(table, () => later, 60_000, Number.POSITIVE_INFINITY);
    tick.start();
    try {
      expect(timers()).toBe(before);
    } finally {
      tick.stop();
    }
  });

  it('start() with an interval of 0 sets no timer: the GC is off', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { table, later } = expiredTable();
    const tick = new GcTick(table, () => later, 0, Number.POSITIVE_INFINITY);
    tick.start();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect([table.size, table.counters.gcSweeps]).toEqual([SESSIONS, 0]);
  });
});
