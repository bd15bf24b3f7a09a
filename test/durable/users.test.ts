import { describe, expect, it } from 'vitest';
import { createShardedProvider, type ShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { Clock } from '../support/session-helpers.js';
import { durableTeardown } from '../support/sharded.js';
import { tempDir } from '../support/temp-dir.js';

// A user's sessions (issue 13) on durable shards: bindings and own timeouts are stored with the session, so a
// restart (and a reshard) lists, revokes and times them as before. Shard workers load dist/: build first.

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const REMEMBER = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 30 * 86_400_000 };

const { providers: open, dirs } = durableTeardown();

function start(dir: string, clock: Clock, shards: number): ShardedProvider {
  const provider = createShardedProvider({ dir, shards, now: clock.now, gcIntervalMs: 0 });
  open.push(provider);
  return provider;
}

async function stop(provider: ShardedProvider): Promise<void> {
  open.splice(open.indexOf(provider), 1);
  await provider.close();
}

describe("'sharded' with dir: a user's sessions survive a restart", () => {
  it('lists the same handles and labels after a restart with another shard count, and revokes from them', async () => {
    const made = tempDir('shard-durable-users-');
    dirs.push(made);
    const clock = new Clock(Date.now());
    const first = start(made.path, clock, 2);
    const sids = Array.from({ length: 6 }, () => generateSid());
    for (const sid of sids) await first.init(sid, POLICY);
    const bound = await Promise.all(
      sids.slice(0, 3).map((sid, i) => first.bindUser(sid, 'ann', `device ${i}`)),
    );
    await first.bindUser(sids[3] as string, 'bob');
    const retimed = await first.setTimeouts(sids[0] as string, REMEMBER);
    const before = await first.sessionsOf('ann');
    await stop(first);

    const second = start(made.path, clock, 3);
    const after = await second.sessionsOf('ann');
    const byHandle = (list: typeof before) =>
      [...list]
        .sort((a, b) => a.handle.localeCompare(b.handle))
        .map(({ handle, label }) => ({ handle, label }));
    expect(after).toHaveLength(3);
    expect(byHandle(after)).toEqual(byHandle(before));
    expect(new Set(after.map((s) => s.handle))).toEqual(new Set(bound.map((b) => b?.handle)));
    // The remembered session kept its own timeouts.
    expect((await second.read(sids[0] as string))?.absoluteExpiresAt).toBe(retimed?.absoluteExpiresAt);
    // Unbound sessions stay unbound; bob's is his alone.
    expect((await second.sessionsOf('bob')).map((s) => s.handle)).toHaveLength(1);

    expect(await second.revokeUser('ann')).toBe(3);
    for (const sid of sids.slice(0, 3)) expect(await second.read(sid)).toBeNull();
    for (const sid of sids.slice(3)) expect(await second.read(sid)).not.toBeNull();
    await stop(second);

    // The revocation is on disk too.
    const third = start(made.path, clock, 1);
    expect(await third.sessionsOf('ann')).toEqual([]);
    expect(await third.sessionsOf('bob')).toHaveLength(1);
  });
});
