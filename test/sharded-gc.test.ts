import { afterAll, describe, expect, it } from 'vitest';
import { createShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

const SESSIONS = 1_000_000;
const SLICE_MS = 4;

describe('GC of a million expired sessions', () => {
  let clock = Date.now();
  const provider = createShardedProvider({
    shards: 2,
    now: () => clock,
    gcIntervalMs: 50,
    gcSliceMs: SLICE_MS,
  });
  afterAll(() => provider.close());

  it('sweeps them on the shards’ own ticks, in slices within budget, down to zero', async () => {
    const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
    // Fill in chunks, so the queue limit is never the subject of this test.
    for (let done = 0; done < SESSIONS; done += 20_000) {
      await Promise.all(Array.from({ length: 20_000 }, () => provider.init(generateSid(), policy)));
    }
    let stats = await provider.stats();
    expect(stats.reduce((sum, s) => sum + s.sessions, 0)).toBe(SESSIONS);
    const sweepsBefore = stats.reduce((sum, s) => sum + s.gcSweeps, 0);

    clock += 61_000; // every session is now past its idle timeout
    for (let i = 0; i < 600; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stats = await provider.stats(); // also carries the router's clock to the shards
      if (stats.every((s) => s.sessions === 0)) break;
    }
    expect(stats.reduce((sum, s) => sum + s.sessions, 0)).toBe(0);
    expect(stats.reduce((sum, s) => sum + s.expired, 0)).toBe(SESSIONS);
    // The sweep really was sliced: at a 4 ms budget a million removals take dozens of slices, where an
    // unsliced sweep would take one per shard and tick. (The slices' own lengths are wall-clock times, which
    // on a loaded shared machine include whatever the OS took away from the thread: not asserted here; the
    // bench reports gcMaxSliceMs.)
    expect(stats.reduce((sum, s) => sum + s.gcSweeps, 0) - sweepsBefore).toBeGreaterThan(20);
    expect(await provider.count()).toBe(0);
  }, 120_000);
});
