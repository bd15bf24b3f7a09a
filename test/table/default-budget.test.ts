import { getHeapStatistics } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { resolveLimits } from '../../src/providers/provider-options.js';
import { SessionTable } from '../../src/providers/session-table.js';

// The default byte budget of a table (eviction.ts): half the old-generation limit of its thread. A shard is a
// worker with `resourceLimits`; the tests run on the main thread, so a worker's limits are mocked here (the
// shard threads run dist/, which a mutant of src/ never reaches).

const limits = vi.hoisted((): { maxOldGenerationSizeMb?: number } => ({}));
vi.mock('node:worker_threads', async (original) => ({
  ...(await original<typeof import('node:worker_threads')>()),
  resourceLimits: limits,
}));

describe("a table's default byte budget", () => {
  it('is half the heap limit on a thread without resource limits', () => {
    delete limits.maxOldGenerationSizeMb;
    const table = new SessionTable(resolveLimits());
    expect(table.maxBytes).toBe(Math.floor(getHeapStatistics().heap_size_limit * 0.5));
  });

  it("is half a worker's maxOldGenerationSizeMb, in bytes", () => {
    limits.maxOldGenerationSizeMb = 64;
    expect(new SessionTable(resolveLimits()).maxBytes).toBe(32 * 1024 * 1024);
    limits.maxOldGenerationSizeMb = 0; // no limit given: the heap's
    expect(new SessionTable(resolveLimits()).maxBytes).toBe(
      Math.floor(getHeapStatistics().heap_size_limit * 0.5),
    );
  });

  it('is maxShardBytes when given', () => {
    limits.maxOldGenerationSizeMb = 64;
    expect(new SessionTable(resolveLimits({ maxShardBytes: 1 })).maxBytes).toBe(1);
    expect(new SessionTable(resolveLimits({ maxShardBytes: 5000 })).maxBytes).toBe(5000);
  });
});
