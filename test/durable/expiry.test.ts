import { statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/codec.js';
import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { Clock } from '../support/session-helpers.js';
import { durableTeardown } from '../support/sharded.js';
import { tempDir } from '../support/temp-dir.js';

// Expiry on disk: the shards' GC tick deletes expired records in slices, so under churn the file stops
// growing. 20,000 sessions a round rather than 1 M, to keep the test a few seconds long; LMDB reuses the
// pages freed by a round's deletions for the next round's sessions whatever the count.
const ROUND = 20_000;
const POLICY = { idleTimeoutMs: 1_000, absoluteTimeoutMs: 60_000 };

const { providers, dirs } = durableTeardown();

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("'sharded' with dir: expiry on disk", () => {
  it('create and expire 20,000 sessions five times: the GC tick deletes them from the file, whose size stays flat', async () => {
    const dir = tempDir('shard-durable-churn-');
    dirs.push(dir);
    const clock = new Clock(Date.now());
    const provider = createShardedProvider({ dir: dir.path, shards: 2, now: clock.now, gcIntervalMs: 20 });
    providers.push(provider);
    const value = encodeValue({ user: 'someone', roles: ['reader'], seen: 12345 });
    const sizes: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < ROUND; i += 1000) {
        await Promise.all(
          Array.from({ length: 1000 }, () => provider.init(generateSid(), POLICY, { set: [['u', value]] })),
        );
      }
      clock.advance(2_000);
      // Any frame carries the router's clock to the shards; their GC tick follows it.
      await until(async () => {
        await provider.read(generateSid());
        const stats = await provider.stats();
        return stats.every((s) => s.sessions === 0);
      }, 'the GC tick to sweep the round');
      sizes.push(statSync(join(dir.path, 'data.mdb')).size);
    }
    const stats = await provider.stats();
    expect(stats.reduce((n, s) => n + s.expired, 0)).toBe(5 * ROUND);
    expect(stats.reduce((n, s) => n + s.gcSweeps, 0)).toBeGreaterThan(0);
    // The first two rounds size the file (a page freed in round 1 is reusable only once no reader can see
    // it, so round 2 may still grow it: seen 9.1 → 11.5 MB on a loaded machine); later rounds reuse its
    // pages (a little slack for LMDB's free lists): the file levels off instead of growing every round.
    const sized = Math.max(sizes[0] as number, sizes[1] as number);
    for (const size of sizes.slice(2)) expect(size).toBeLessThanOrEqual(sized * 1.25);
    await provider.close();

    // Nothing of the expired sessions is left in the file.
    const env = open({ path: dir.path, noSubdir: false, maxDbs: 4, readOnly: true });
    const db = env.openDB<Buffer, string>({ name: 'sessions', encoding: 'binary' });
    expect(db.getCount()).toBe(0);
    await env.close();
  });
});
