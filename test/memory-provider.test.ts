import { afterEach, describe, expect, it, vi } from 'vitest';
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
    vi.advanceTimersByTime(1); // the tick (100 sessions fit in its first slice)
    [stats] = await provider.stats();
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
});
