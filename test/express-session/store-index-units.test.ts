import { describe, expect, it, vi } from 'vitest';
import { ShardSessionStore } from '../../src/express-session.js';
import { SessionIndex, WALK_CHUNK } from '../../src/http/express-session/session-index.js';
import { StoreKeys } from '../../src/http/express-session/store-keys.js';
import {
  createMemoryProvider,
  InvalidArgumentError,
  SessionExistsError,
  type SessionProvider,
} from '../../src/index.js';
import { generateSid } from '../../src/sid.js';
import { Clock, overriding } from '../support/session-helpers.js';
import { closedAfterEach, expiringAt, StoreCalls } from '../support/store-calls.js';

// The express-session store's index (session-index.ts) and the store's edges around it, against a real
// 'memory' provider (wrapped where a race or a failure must land at one exact step). Written for the survivors
// of a Stryker run over session-index.ts and session-object-store.ts: each test failed with its mutants planted.

const HOUR = 3_600_000;
const opened = closedAfterEach();

/** A store on a 'memory' provider with its GC and the pruner off, on a clock the test moves. */
function storeOn(
  clock: Clock,
  provider: SessionProvider = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 }),
) {
  const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0 });
  opened.push(store);
  return { store, calls: new StoreCalls(store), provider };
}

describe('the session index', () => {
  const keys = new StoreKeys('idx:');
  const bucketSid = keys.bucket(0);
  const key = { sid: generateSid(), bucket: 0 };

  /** A provider on which the bucket's record is missing for `misses` commits, and `init` fails as `initFails` says. */
  function racing(initFails: (attempt: number) => Error | 'rival' | undefined) {
    const base = createMemoryProvider({ gcIntervalMs: 0 });
    opened.push(base);
    let inits = 0;
    const provider = overriding(base, {
      init: async (sid, policy, delta) => {
        if (sid !== bucketSid) return base.init(sid, policy, delta);
        const failure = initFails(inits++);
        if (failure === 'rival') {
          // Another writer creates the bucket between our commit (which found none) and our init.
          await base.init(sid, policy, { set: [['rival-entry', new Uint8Array(0)]] });
          return base.init(sid, policy, delta); // rejects: it exists now
        }
        if (failure) throw failure;
        return base.init(sid, policy, delta);
      },
    });
    return { index: new SessionIndex(provider, keys), base, inits: () => inits };
  }

  it('lists a session onto the bucket a rival created meanwhile, keeping the rival’s entry', async () => {
    const { index, inits } = racing((attempt) => (attempt === 0 ? 'rival' : undefined));
    await index.add(key);
    expect((await index.entries(0)).sort()).toEqual([key.sid, 'rival-entry'].sort());
    expect(inits()).toBe(1);
  });

  it('gives up on a second lost race, and at once on any other failure', async () => {
    const lostTwice = racing((attempt) => (attempt < 2 ? new SessionExistsError() : undefined));
    await expect(lostTwice.index.add(key)).rejects.toBeInstanceOf(SessionExistsError);
    expect(lostTwice.inits()).toBe(2);
    const disk = new Error('disk on fire');
    const failing = racing((attempt) => (attempt === 0 ? disk : undefined));
    await expect(failing.index.add(key)).rejects.toBe(disk);
    expect(failing.inits()).toBe(1);
    expect(await failing.index.entries(0)).toEqual([]);
  });

  it('walks a bucket of more than one chunk visiting each entry once', async () => {
    const base = createMemoryProvider({ gcIntervalMs: 0 });
    opened.push(base);
    const index = new SessionIndex(base, keys);
    const sids = Array.from({ length: WALK_CHUNK + 44 }, () => generateSid());
    for (const sid of sids) await index.add({ sid, bucket: 0 });
    const visited: string[] = [];
    await index.walk((sid, snapshot) => {
      expect(snapshot).toBeNull(); // listed, never created
      visited.push(sid);
    });
    expect(visited.sort()).toEqual([...sids].sort());
  });

  it('walks every one of the 4,096 buckets, WALK_CHUNK records at a time, the last group and bucket too', async () => {
    const base = createMemoryProvider({ gcIntervalMs: 0 });
    opened.push(base);
    let reading = 0;
    let mostAtOnce = 0;
    let reads = 0;
    const provider = overriding(base, {
      read: async (sid) => {
        reads++;
        mostAtOnce = Math.max(mostAtOnce, ++reading);
        try {
          return await base.read(sid);
        } finally {
          reading--;
        }
      },
    });
    const index = new SessionIndex(provider, keys);
    const listed = [0, 255, 256, 3839, 3840, 4095].map((bucket) => ({ sid: generateSid(), bucket }));
    for (const each of listed) await index.add(each);
    const visited: string[] = [];
    await index.walk((sid) => visited.push(sid));
    expect(visited.sort()).toEqual(listed.map((each) => each.sid).sort());
    expect(reads).toBe(4096 + listed.length); // every bucket record once, then each listed session
    expect(mostAtOnce).toBe(WALK_CHUNK);
    expect((await index.entriesOf(4090, 100)).flat()).toEqual([listed[5]?.sid]); // clipped at the last bucket
  });
});

describe('the express-session store and its index', () => {
  it('unlists a destroyed session and what clear destroyed: a prune afterwards finds nothing to remove', async () => {
    const clock = new Clock();
    const { calls, store } = storeOn(clock);
    await calls.set('a', expiringAt({}, clock.time + HOUR));
    await calls.set('b', expiringAt({}, clock.time + HOUR));
    await calls.destroy('a');
    expect(await store.prune()).toBe(0);
    await calls.clear();
    expect(await store.prune()).toBe(0);
  });

  it('sets no prune timer when pruneInterval is 0', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const provider = createMemoryProvider({ gcIntervalMs: 0 });
    opened.push(new ShardSessionStore({ provider, pruneInterval: 0 }));
    expect(vi.getTimerCount()).toBe(0);
    opened.push(
      new ShardSessionStore({ provider: createMemoryProvider({ gcIntervalMs: 0 }), pruneInterval: 1000 }),
    );
    expect(vi.getTimerCount()).toBe(1);
  });

  it('destroys, not keeps, a session set or touched to expire now or earlier', async () => {
    const clock = new Clock();
    const { calls, provider } = storeOn(clock);
    await calls.set('a', expiringAt({}, clock.time + HOUR));
    const held = await provider.count(); // the session and its index bucket
    await calls.set('a', expiringAt({}, clock.time)); // expires this very ms
    expect(await provider.count()).toBe(held - 1);
    await calls.set('a', expiringAt({}, clock.time + HOUR));
    await calls.touch('a', expiringAt({}, clock.time));
    expect(await provider.count()).toBe(held - 1);
    await calls.set('a', expiringAt({}, clock.time + HOUR));
    await calls.touch('a', expiringAt({}, clock.time - 1));
    expect(await provider.count()).toBe(held - 1);
  });

  it('resolves a set whose lifetime grew, when the session is destroyed before it is moved to the longer policy', async () => {
    const clock = new Clock();
    const hashKey = 'a fixed hash key of at least 32 bytes, for this test';
    const sid = new StoreKeys('', Buffer.from(hashKey)).session('a').sid;
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    let destroyOnRead = false;
    const provider = overriding(base, {
      read: async (read) => {
        // A destroy from elsewhere lands between the commit that found the deadline short and the read before the move.
        if (destroyOnRead && read === sid) await base.destroy(read);
        return base.read(read);
      },
    });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0, hashKey });
    opened.push(store);
    const calls = new StoreCalls(store);
    await calls.set('a', expiringAt({ n: 1 }, clock.time + HOUR));
    expect(await base.read(sid)).not.toBeNull(); // the id the test computed is the store's
    destroyOnRead = true;
    await calls.set('a', expiringAt({ n: 2 }, clock.time + 30 * 24 * HOUR)); // "remember me": a longer policy
    expect(await base.read(sid)).toBeNull(); // not brought back
  });

  it('never shortens the provider deadline that a concurrent set of a longer lifetime gave the session', async () => {
    const clock = new Clock();
    const hashKey = 'a fixed hash key of at least 32 bytes, for this test';
    const sid = new StoreKeys('', Buffer.from(hashKey)).session('a').sid;
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    let hold: Promise<void> | undefined;
    const provider = overriding(base, {
      read: async (read) => {
        // The first read of the session (the 2-day set's, before its move) waits until the 30-day set is done.
        const wait = read === sid ? hold : undefined;
        if (wait) {
          hold = undefined;
          await wait;
        }
        return base.read(read);
      },
    });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0, hashKey });
    opened.push(store);
    const calls = new StoreCalls(store);
    await calls.set('a', expiringAt({ n: 1 }, clock.time + HOUR));
    let release = () => {};
    hold = new Promise((resolve) => (release = resolve));
    const twoDays = calls.set('a', expiringAt({ n: 2 }, clock.time + 48 * HOUR));
    await calls.set('a', expiringAt({ n: 3 }, clock.time + 30 * 24 * HOUR));
    release();
    await twoDays;
    expect((await base.read(sid))?.expiresAt).toBeGreaterThanOrEqual(clock.time + 30 * 24 * HOUR);
  });

  it('remembers the expiries of the last 10,000 sessions read: a touch after an older read writes', async () => {
    const clock = new Clock();
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    let commits = 0;
    const provider = overriding(base, {
      commit: (sid, delta) => {
        commits++;
        return base.commit(sid, delta);
      },
    });
    const { calls } = storeOn(clock, provider);
    const READ_EXPIRIES = 10_000;
    const cookie = expiringAt({}, clock.time + HOUR);
    for (let i = 0; i <= READ_EXPIRIES; i++) await calls.set(`s${i}`, cookie);
    for (let i = 0; i <= READ_EXPIRIES; i++) await calls.get(`s${i}`);
    const touchWrites = async (id: string) => {
      const before = commits;
      await calls.touch(id, expiringAt({}, clock.time + HOUR + 1)); // moved by far less than a tenth
      return commits - before;
    };
    expect(await touchWrites('s0')).toBe(1); // the oldest of 10,001 reads is forgotten
    expect(await touchWrites('s1')).toBe(0); // the next 10,000 are remembered
    expect(await touchWrites(`s${READ_EXPIRIES}`)).toBe(0);
  });

  it('refuses a session that is not an object, by name', async () => {
    const { calls } = storeOn(new Clock());
    for (const session of ['text', 42, null]) {
      await expect(calls.set('a', session as unknown as object)).rejects.toThrow(
        new InvalidArgumentError('a session must be an object'),
      );
    }
  });
});
