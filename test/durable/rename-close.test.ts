import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { durableTeardown, sidOnShard } from '../support/sharded.js';
import { tempDir } from '../support/temp-dir.js';

// A rename across shards that races close() (a graceful shutdown during a login's regenerate): the old shard
// has handed the record over when close() starts, and a closed link would refuse both the put to the new
// shard and the put back. Found by the router's mutation round (issue 16); with `dir` the loss was on disk.
// Shard workers load the build (dist/): `npm run build` first.

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };

const { providers: open, dirs } = durableTeardown();

describe('a rename across shards that races close()', () => {
  it('lands under the new id before the shards close, and the files hold it', async () => {
    const dir = tempDir('shard-rename-close-');
    dirs.push(dir);
    const first = createShardedProvider({ dir: dir.path, shards: 2, gcIntervalMs: 0 });
    const [oldSid, newSid] = [sidOnShard(0, 2), sidOnShard(1, 2)];
    await first.init(oldSid, POLICY, { set: [['user', Uint8Array.of(7)]] });
    // close() starts in the turn the increment's answer comes back, while the rename's take is out.
    let closing: Promise<void> | undefined;
    const incremented = first.incr(oldSid, 'n', 1).then(() => {
      closing = first.close();
    });
    const renamed = first.rename(oldSid, newSid);
    await incremented;
    const meta = await renamed;
    await closing;
    expect(meta).not.toBeNull();
    await expect(first.read(newSid)).rejects.toBeInstanceOf(ClosedError);

    const second = createShardedProvider({ dir: dir.path, shards: 2, gcIntervalMs: 0 });
    open.push(second);
    expect(await second.read(oldSid)).toBeNull();
    expect([...((await second.read(newSid))?.values.keys() ?? [])]).toEqual(['user', 'n']);
    expect(await second.count()).toBe(1);
  });

  it('a rename asked for after close() started is refused, and nothing moves', async () => {
    const provider = createShardedProvider({ shards: 2, gcIntervalMs: 0 });
    const [oldSid, newSid] = [sidOnShard(0, 2), sidOnShard(1, 2)];
    await provider.init(oldSid, POLICY);
    const closing = provider.close();
    await expect(provider.rename(oldSid, newSid)).rejects.toBeInstanceOf(ClosedError);
    await closing;
  });
});
