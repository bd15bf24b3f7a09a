import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryProvider, type MemoryProvider } from '../src/providers/memory.js';
import { generateSid } from '../src/sid.js';

// What only 'memory' does. Every behaviour of the contract is tested for it in test/contract/memory.test.ts.
describe("'memory' provider", () => {
  let provider: MemoryProvider | undefined;
  afterEach(() => provider?.close());

  it('sweeps on its own GC tick', async () => {
    let clock = 1_000_000;
    provider = createMemoryProvider({ now: () => clock, gcIntervalMs: 10 });
    for (let i = 0; i < 100; i++)
      await provider.init(generateSid(), { idleTimeoutMs: 1000, absoluteTimeoutMs: 5000 });
    clock += 2000;
    // Wait for the tick (every 10 ms) with a deadline, not for a fixed time.
    let [stats] = await provider.stats();
    for (let i = 0; i < 200 && stats?.sessions !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      [stats] = await provider.stats();
    }
    expect(stats?.sessions).toBe(0);
    expect(stats?.expired).toBe(100);
    expect(stats?.gcSweeps).toBeGreaterThan(0);
  });
});
