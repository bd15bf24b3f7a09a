import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec.js';
import { StorageError } from '../../src/errors.js';
import type { SessionMeta } from '../../src/providers/provider.js';
import { createShardedProvider, type ShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { Clock } from '../support/session-helpers.js';
import { durableTeardown } from '../support/sharded.js';
import { tempDir } from '../support/temp-dir.js';

// Restart, reshard and a dead shard thread: every acknowledged session comes back from the files.
// Shard workers load the build (dist/): `npm run build` first.

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const SHORT = { idleTimeoutMs: 5_000, absoluteTimeoutMs: 600_000 };

const { providers: open, dirs } = durableTeardown();

function newDir(): string {
  const dir = tempDir('shard-durable-');
  dirs.push(dir);
  return dir.path;
}

function start(dir: string, clock: Clock, shards: number): ShardedProvider {
  const provider = createShardedProvider({ dir, shards, now: clock.now, gcIntervalMs: 0 });
  open.push(provider);
  return provider;
}

async function stop(provider: ShardedProvider): Promise<void> {
  open.splice(open.indexOf(provider), 1);
  await provider.close();
}

/** What a session looks like from outside: its deadlines and its decoded values. */
async function view(provider: ShardedProvider, sid: string) {
  const snapshot = await provider.read(sid);
  if (!snapshot) return null;
  const { createdAt, idleExpiresAt, absoluteExpiresAt } = snapshot;
  const values = Object.fromEntries([...snapshot.values].map(([k, v]) => [k, decodeValue(v)]));
  return { createdAt, idleExpiresAt, absoluteExpiresAt, values };
}

describe("'sharded' with dir: restart", () => {
  it('a new provider on the same dir serves every live session with its values and deadlines; expired and destroyed ones are gone', async () => {
    const dir = newDir();
    const clock = new Clock(Date.now());
    const first = start(dir, clock, 2);
    const sids = Array.from({ length: 300 }, () => generateSid());
    const metas = new Map<string, SessionMeta>();
    await Promise.all(
      sids.map(async (sid, i) => {
        const set: [string, Uint8Array][] = [
          ['user', encodeValue({ id: i, roles: ['a', 'b'], at: new Date(1_700_000_000_000 + i) })],
        ];
        metas.set(sid, await first.init(sid, i % 10 === 0 ? SHORT : POLICY, { set }));
      }),
    );
    clock.advance(1_000);
    // Every kind of acknowledged write: incr, commit (set and delete), rename, destroy.
    for (let i = 0; i < 300; i += 3) expect(await first.incr(sids[i] as string, 'n', i)).toBe(i);
    for (let i = 1; i < 300; i += 3) {
      const meta = await first.commit(sids[i] as string, {
        set: [['extra', encodeValue('x')]],
        delete: ['user'],
      });
      metas.set(sids[i] as string, meta as SessionMeta);
    }
    const renamed = new Map<string, string>();
    for (let i = 2; i < 60; i += 3) {
      const to = generateSid();
      const meta = await first.rename(sids[i] as string, to);
      metas.set(to, meta as SessionMeta);
      renamed.set(sids[i] as string, to);
    }
    for (let i = 62; i < 90; i += 3) expect(await first.destroy(sids[i] as string)).toBe(true);
    const before = new Map<string, unknown>();
    for (const sid of [...sids, ...renamed.values()]) before.set(sid, await view(first, sid));
    await stop(first);

    // 5 s later: the sessions with a 5 s idle timeout that were not touched since their init have expired.
    clock.advance(5_000);
    const second = start(dir, clock, 2);
    let live = 0;
    for (const [sid, was] of before) {
      const now = await view(second, sid);
      if (was === null) {
        expect(now).toBeNull();
        continue;
      }
      const expired = (was as { idleExpiresAt: number }).idleExpiresAt <= clock.now();
      expect(now).toEqual(expired ? null : was);
      if (!expired) live++;
    }
    expect(live).toBeGreaterThan(200);
    expect(await second.count()).toBe(live);
    // Renamed ids stay dead; destroyed ones too.
    for (const old of renamed.keys()) expect(await second.read(old)).toBeNull();
  });

  it('while the shards still load, requests are answered from the file: none is told its session is unknown, and the load overwrites or resurrects nothing', async () => {
    const dir = newDir();
    const clock = new Clock(Date.now());
    const first = start(dir, clock, 1);
    const sids = Array.from({ length: 20_000 }, () => generateSid());
    for (let i = 0; i < sids.length; i += 1000) {
      await Promise.all(
        sids.slice(i, i + 1000).map((sid) => first.init(sid, POLICY, { set: [['n', encodeValue(1)]] })),
      );
    }
    await stop(first);
    const second = start(dir, clock, 1);
    // Issued at once, before the thread can have loaded 20,000 sessions: destroys, increments, reads.
    const destroyed = sids.slice(0, 100);
    const bumped = sids.slice(19_900);
    const [destroyedAnswers, bumpedAnswers, found] = await Promise.all([
      Promise.all(destroyed.map((sid) => second.destroy(sid))),
      Promise.all(bumped.map((sid) => second.incr(sid, 'n', 10))),
      Promise.all(sids.slice(100, 19_900).map((sid) => second.read(sid))),
    ]);
    expect(destroyedAnswers.every((answer) => answer === true)).toBe(true);
    expect(bumpedAnswers.every((answer) => answer === 11)).toBe(true);
    expect(found.filter((s) => s === null)).toHaveLength(0);
    // count finishes the load: the destroyed stay destroyed, the increments stay.
    expect(await second.count()).toBe(19_900);
    for (const sid of destroyed.slice(0, 10)) expect(await second.read(sid)).toBeNull();
    for (const sid of bumped.slice(0, 10)) {
      expect(decodeValue((await second.read(sid))?.values.get('n') as Uint8Array)).toBe(11);
    }
  });

  it('a change of shard count between runs (2 → 3 → 1) finds every session', async () => {
    const dir = newDir();
    const clock = new Clock(Date.now());
    const sids = Array.from({ length: 600 }, () => generateSid());
    const two = start(dir, clock, 2);
    await Promise.all(sids.map((sid, i) => two.init(sid, POLICY, { set: [['i', encodeValue(i)]] })));
    await stop(two);

    const three = start(dir, clock, 3);
    expect(await three.count()).toBe(600);
    const perShard = (await three.stats()).map((s) => s.sessions);
    expect(perShard).toHaveLength(3);
    for (const n of perShard) expect(n).toBeGreaterThan(100);
    for (let i = 0; i < 600; i++) expect(await three.incr(sids[i] as string, 'i', 1000)).toBe(i + 1000);
    await stop(three);

    const one = start(dir, clock, 1);
    expect(await one.count()).toBe(600);
    for (let i = 0; i < 600; i++) {
      const snapshot = await one.read(sids[i] as string);
      expect(decodeValue(snapshot?.values.get('i') as Uint8Array)).toBe(i + 1000);
    }
  });

  it('a shard thread that dies comes back with its sessions, not empty', async () => {
    const dir = newDir();
    const clock = new Clock(Date.now());
    const provider = start(dir, clock, 2);
    const sids = Array.from({ length: 400 }, () => generateSid());
    await Promise.all(sids.map((sid) => provider.init(sid, POLICY, { set: [['k', encodeValue(sid)]] })));
    await Promise.all(sids.map((sid) => provider.incr(sid, 'n', 7)));
    const [before] = await provider.stats();
    await provider.terminateShard(0);
    // The first calls after the death go to the new thread, which answers once it has loaded.
    for (const sid of sids) {
      const snapshot = await provider.read(sid);
      expect(decodeValue(snapshot?.values.get('k') as Uint8Array)).toBe(sid);
      expect(decodeValue(snapshot?.values.get('n') as Uint8Array)).toBe(7);
    }
    const [after] = await provider.stats();
    expect(after?.threadId).not.toBe(before?.threadId);
    expect(after?.sessions).toBe(before?.sessions);
    expect(await provider.count()).toBe(400);
  });

  it('a second provider on a dir this process serves is refused with StorageError ERR_STORAGE_LOCKED; after close it opens', async () => {
    const dir = newDir();
    const clock = new Clock(Date.now());
    const first = start(dir, clock, 1);
    const sid = generateSid();
    await first.init(sid, POLICY);
    let refused: unknown;
    try {
      createShardedProvider({ dir, shards: 1 });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as StorageError).code).toBe('ERR_STORAGE_LOCKED');
    expect((refused as Error).message).toMatch(/already open in this process/);
    await stop(first);
    const second = start(dir, clock, 1);
    expect(await second.read(sid)).not.toBeNull();
  });
});
