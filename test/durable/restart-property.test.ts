import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionPolicy } from '../../src/providers/provider.js';
import { createShardedProvider, type ShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { type Command, command, POLICIES, SESSION_SLOTS, toDelta } from '../../src/testing/cases/model.js';
import { Clock } from '../support/session-helpers.js';
import { tempDir } from '../support/temp-dir.js';

// Restarts are invisible: random operation sequences (the contract's own generator) with restarts of the
// process's provider at random points; after each, every session reads back exactly as it did before, with
// its values and deadlines. 2 shards before a restart and 3 after it, so sessions also change shards.
// fast-check prints the seed of a failure: replay it with `{ seed, path }` in fc.assert's options.

type Step = Command | { op: 'restart' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: command, weight: 8 },
  { arbitrary: fc.constant({ op: 'restart' as const }), weight: 1 },
);

/** Runs one command; refusals (a taken id, a bad incr) are part of the sequence, not failures. */
async function apply(
  provider: ShardedProvider,
  sids: string[],
  clock: Clock,
  cmd: Command,
): Promise<unknown> {
  const sid = (i: number) => sids[i] as string;
  const refused = () => undefined;
  switch (cmd.op) {
    case 'init':
      return provider
        .init(sid(cmd.sid), POLICIES[cmd.policy] as SessionPolicy, toDelta(cmd.set))
        .catch(refused);
    case 'read':
      return provider.read(sid(cmd.sid));
    case 'commit':
      return provider.commit(sid(cmd.sid), toDelta(cmd.set, cmd.del)).catch(refused);
    case 'incr':
      return provider.incr(sid(cmd.sid), 'a', cmd.by).catch(refused);
    case 'rename':
      return provider.rename(sid(cmd.from), sid(cmd.to)).catch(refused);
    case 'destroy':
      return provider.destroy(sid(cmd.sid));
    case 'advance':
      return clock.advance(cmd.ms);
    case 'gc':
      return provider.gc();
    case 'count':
      return provider.count();
  }
}

/** Every slot's session as a reader sees it (a read does not slide the deadline, so reading changes nothing). */
async function views(provider: ShardedProvider, sids: string[]): Promise<unknown[]> {
  return Promise.all(
    sids.map(async (sid) => {
      const s = await provider.read(sid);
      return s && { ...s, values: [...s.values].map(([k, v]) => [k, [...v]]) };
    }),
  );
}

describe("'sharded' with dir: restarts are invisible", () => {
  it('random operation sequences with restarts in between: every session reads back as before each restart', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const dir = tempDir('shard-durable-prop-');
        const clock = new Clock(Date.now());
        const sids = Array.from({ length: SESSION_SLOTS }, () => generateSid());
        let shards = 2;
        let provider = createShardedProvider({ dir: dir.path, shards, now: clock.now, gcIntervalMs: 0 });
        try {
          for (const s of [...steps, { op: 'restart' as const }]) {
            if (s.op !== 'restart') {
              await apply(provider, sids, clock, s);
              continue;
            }
            const before = await views(provider, sids);
            await provider.close();
            shards = shards === 2 ? 3 : 2;
            provider = createShardedProvider({ dir: dir.path, shards, now: clock.now, gcIntervalMs: 0 });
            expect(await views(provider, sids)).toEqual(before);
            expect(await provider.count()).toBe(before.filter((v) => v !== null).length);
          }
        } finally {
          await provider.close();
          dir.remove();
        }
      }),
      { numRuns: 10 },
    );
  });
});
