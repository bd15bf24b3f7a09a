import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeValue } from '../src/codec.js';
import { createMemoryProvider, type MemoryProvider } from '../src/providers/memory.js';
import { generateSid } from '../src/sid.js';

// What only 'memory' does. Every behaviour of the contract is tested for it in test/contract/memory.test.ts.
describe("'memory' provider", () => {
  let provider: MemoryProvider | undefined;
  afterEach(async () => {
    await provider?.close();
    vi.useRealTimers();
  });

  it('sweeps on its own GC tick, and only when the tick comes', async () => {
    // Fake timers drive the tick: no sleeping, no wall clock. The provider's clock is its own `now`.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate'] });
    let clock = 1_000_000;
    provider = createMemoryProvider({ now: () => clock, gcIntervalMs: 10 });
    for (let i = 0; i < 100; i++)
      await provider.init(generateSid(), { idleTimeoutMs: 1000, absoluteTimeoutMs: 5000 });
    clock += 2000;
    vi.advanceTimersByTime(9);
    let [stats] = await provider.stats();
    expect(stats?.gcSweeps).toBe(0);
    expect(stats?.sessions).toBe(100); // expired, not swept yet
    vi.advanceTimersByTime(1); // the tick
    [stats] = await provider.stats();
    expect(stats?.gcSweeps).toBeGreaterThan(0);
    // A slice ends at its time budget and the sweep goes on after setImmediate: run those until done.
    for (let i = 0; i < 1000 && stats?.sessions !== 0; i++) {
      vi.advanceTimersToNextTimer();
      [stats] = await provider.stats();
    }
    expect(stats?.sessions).toBe(0);
    expect(stats?.expired).toBe(100);
    expect(stats?.gcSweeps).toBeGreaterThan(0);
  });

  it('stops its tick on close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate'] });
    provider = createMemoryProvider({ now: () => 1_000_000, gcIntervalMs: 10 });
    await provider.init(generateSid(), { idleTimeoutMs: 1000, absoluteTimeoutMs: 5000 });
    expect(vi.getTimerCount()).toBe(1);
    await provider.close();
    expect(vi.getTimerCount()).toBe(0);
    provider = undefined;
  });

  it('counts one operation per call in its stats (a rename: two)', async () => {
    provider = createMemoryProvider({ gcIntervalMs: 0 });
    const p = provider;
    const ops = async () => (await p.stats())[0]?.ops;
    const [a, b] = [generateSid(), generateSid()];
    const steps: [string, () => Promise<unknown>][] = [
      ['init', () => p.init(a, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 })],
      ['read', () => p.read(a)],
      ['commit', () => p.commit(a, { set: [['k', encodeValue(1)]] })],
      ['incr', () => p.incr(a, 'n', 1)],
      ['rename', () => p.rename(a, b)],
      ['destroy', () => p.destroy(b)],
    ];
    for (const [name, step] of steps) {
      const before = await ops();
      await step();
      // A rename is the table's take and put: two operations.
      expect(((await ops()) ?? 0) - (before ?? 0), name).toBe(name === 'rename' ? 2 : 1);
    }
  });

  it('says which limit a write would break, and by how much', async () => {
    provider = createMemoryProvider({ gcIntervalMs: 0, maxKeys: 2, maxValueBytes: 20, maxSessionBytes: 40 });
    const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
    const sid = generateSid();
    await provider.init(sid, policy, { set: [['text', encodeValue('abc')]] });
    await expect(provider.incr(sid, 'text', 1)).rejects.toThrow(
      /incr: the value under "text" is not a number/,
    );
    await expect(provider.commit(sid, { set: [['big', new Uint8Array(21)]] })).rejects.toThrow(
      /the value of "big" is 21 bytes, over the limit of 20/,
    );
    await expect(
      provider.commit(sid, {
        set: [
          ['b', new Uint8Array(1)],
          ['c', new Uint8Array(1)],
        ],
      }),
    ).rejects.toThrow(/the session would hold 3 keys, over the limit of 2/);
    await expect(
      provider.commit(sid, {
        set: [
          ['k', new Uint8Array(20)],
          ['text', new Uint8Array(20)],
        ],
      }),
    ).rejects.toThrow(/the session would be 45 bytes, over the limit of 40/);
    await provider.commit(sid, { set: [['n', encodeValue(1)]] });
    await expect(provider.incr(sid, 'm', 1)).rejects.toThrow(/incr: the session already holds 2 keys/);
    await provider.commit(sid, { delete: ['n'], set: [['text', new Uint8Array(20)]] });
    // 'text' (4 + 20 bytes) and a new key 'mmmmmmmmmmmmmmm' (15 + 1 bytes) make 40; one more byte of key is over.
    await expect(provider.incr(sid, 'mmmmmmmmmmmmmmmm', 1)).rejects.toThrow(
      /incr: the session would be over its size limit/,
    );
    expect(await provider.incr(sid, 'mmmmmmmmmmmmmmm', 1)).toBe(1);
  });
});
