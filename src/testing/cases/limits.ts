import { expect } from 'vitest';
import { SessionTooLargeError } from '../../errors.js';
import { bytes, expectRejection, LONG, newSid, setting, statsTotal, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

/** A value of exactly `size` bytes (not a valid encoding: providers store bytes without decoding them). */
const sized = (size: number) => new Uint8Array(size).fill(7);

/** maxValueBytes, maxSessionBytes, maxKeys and maxSessions, and what a refused write leaves behind. */
export function limitCases(h: Harness): void {
  h.test(
    'maxValueBytes: a value at the limit is stored, one byte more rejects SessionTooLargeError',
    async () => {
      const { provider, limits } = await h.shared();
      const sid = newSid();
      await provider.init(sid, LONG, { set: [['at', sized(limits.maxValueBytes)]] });
      const over = { set: [['over', sized(limits.maxValueBytes + 1)]] } as const;
      await expectRejection(() => provider.commit(sid, over), SessionTooLargeError, 'commit');
      await expectRejection(() => provider.init(newSid(), LONG, over), SessionTooLargeError, 'init');
      expect((await provider.read(sid))?.values.get('at')?.byteLength).toBe(limits.maxValueBytes);
    },
  );

  h.test(
    'maxSessionBytes counts keys (UTF-8) and values: at the limit is accepted, one byte over is not',
    async () => {
      const { provider, limits } = await h.shared();
      // Four 1-byte keys, each with a value filling a quarter of the limit less its key.
      const quarter = limits.maxSessionBytes / 4 - 1;
      const full: [string, Uint8Array][] = ['a', 'b', 'c', 'd'].map((key) => [key, sized(quarter)]);
      const sid = newSid();
      await provider.init(sid, LONG, { set: full });
      // 'é' is two bytes in UTF-8: the same session with it is one byte over.
      const accented = full.map(([key, value]) => [key === 'd' ? 'é' : key, value] as [string, Uint8Array]);
      await expectRejection(
        () => provider.init(newSid(), LONG, { set: accented }),
        SessionTooLargeError,
        'init',
      );
      await expectRejection(
        () => provider.commit(sid, { set: [['e', sized(0)]] }),
        SessionTooLargeError,
        '+1 key',
      );
      // Replacing a value counts its new size only; deleting makes room in the same delta.
      expect(await provider.commit(sid, { set: [['a', sized(quarter)]] })).not.toBeNull();
      expect(await provider.commit(sid, { set: [['z', sized(quarter)]], delete: ['a'] })).not.toBeNull();
      expect([...((await provider.read(sid))?.values.keys() ?? [])].sort()).toEqual(['b', 'c', 'd', 'z']);
    },
  );

  h.test(
    'maxKeys: a session at the limit is accepted, one key more is not; deleting makes room',
    async () => {
      const { provider, limits } = await h.shared();
      const keys = Array.from({ length: limits.maxKeys }, (_, i) => `k${i}`);
      const sid = newSid();
      await provider.init(sid, LONG, setting(Object.fromEntries(keys.map((key) => [key, 1]))));
      await expectRejection(
        () => provider.commit(sid, setting({ extra: 1 })),
        SessionTooLargeError,
        'commit',
      );
      await expectRejection(() => provider.incr(sid, 'extra', 1), SessionTooLargeError, 'incr');
      const tooMany = setting(Object.fromEntries([...keys, 'extra'].map((key) => [key, 1])));
      await expectRejection(() => provider.init(newSid(), LONG, tooMany), SessionTooLargeError, 'init');
      expect(await provider.commit(sid, setting({ k0: 'replaced' }))).not.toBeNull();
      expect(await provider.commit(sid, { ...setting({ extra: 1 }), delete: ['k1'] })).not.toBeNull();
      expect(Object.keys((await valuesOf(provider, sid)) ?? {}).length).toBe(limits.maxKeys);
    },
  );

  h.test(
    'a refused commit changes nothing: not its other keys, not its deletes, not the idle deadline',
    async () => {
      const { provider, clock, limits } = await h.fresh();
      const sid = newSid();
      await provider.init(sid, LONG, setting({ keep: 1, n: 5 }));
      const before = await provider.read(sid);
      clock.advance(1000);
      const refused = {
        set: [
          ['new', bytes('new')],
          ['keep', bytes('changed')],
          ['big', sized(limits.maxValueBytes + 1)],
        ],
        delete: ['n'],
      } as const;
      await expectRejection(() => provider.commit(sid, refused), SessionTooLargeError, 'commit');
      expect(await provider.read(sid)).toEqual(before);
    },
  );

  h.test('an incr past maxSessionBytes rejects SessionTooLargeError and writes nothing', async () => {
    const { provider, clock, limits } = await h.fresh();
    const sid = newSid();
    // 10 bytes short of the limit: room for the key 'counter' (7 bytes) with a small integer (1 byte), not
    // with a float (9 bytes as MessagePack float64, 5 as float32).
    await provider.init(sid, LONG, { set: filling(limits.maxSessionBytes - 10, limits.maxValueBytes) });
    clock.advance(1000);
    const before = await provider.read(sid);
    await expectRejection(() => provider.incr(sid, 'counter', 0.5), SessionTooLargeError, 'incr');
    expect(await provider.read(sid)).toEqual(before);
    expect(await provider.incr(sid, 'counter', 1)).toBe(1);
  });

  h.test(
    'a new session evicts the one closest to expiry at maxSessions (of the sessions read again), counted in stats',
    async () => {
      const maxSessions = 3;
      const { provider } = await h.fresh({ maxSessions });
      // maxSessions holds per entry of stats() (per shard of 'sharded'): watch which entry each session joins.
      const held = new Map<number, { sid: string; expiresAt: number }[]>();
      const evicted: string[] = [];
      for (let i = 0; evicted.length < 4 && i < 100; i++) {
        const before = await provider.stats();
        const sid = newSid();
        // Deadlines whole seconds apart, in no particular order (neither oldest nor newest is the soonest).
        const idleTimeoutMs = (((i * 37) % 101) + 10) * 1000;
        const { expiresAt } = await provider.init(sid, { idleTimeoutMs, absoluteTimeoutMs: 86_400_000 });
        // Read again, as a later request does: off probation (see the next test), so expiry decides.
        expect(await provider.read(sid)).not.toBeNull();
        const after = await provider.stats();
        const grown = after.filter((entry) => {
          const was = before.find((other) => other.shard === entry.shard);
          return entry.sessions + entry.evicted - (was ? was.sessions + was.evicted : 0) === 1;
        });
        expect(grown.length, 'the one stats entry a new session joined').toBe(1);
        const sessions = held.get(grown[0]?.shard as number) ?? [];
        held.set(grown[0]?.shard as number, sessions);
        if (sessions.length === maxSessions) {
          sessions.sort((a, b) => a.expiresAt - b.expiresAt);
          evicted.push((sessions.shift() as { sid: string }).sid);
        }
        sessions.push({ sid, expiresAt });
      }
      expect(evicted.length).toBe(4);
      for (const sid of evicted) expect(await provider.read(sid), 'evicted').toBeNull();
      const live = [...held.values()].flat();
      for (const { sid } of live) expect(await provider.read(sid), 'kept').not.toBeNull();
      expect(await provider.count()).toBe(live.length);
      expect(await statsTotal(provider, 'evicted')).toBe(evicted.length);
    },
    'maxSessions',
  );

  h.test(
    'at maxSessions, sessions never read since their creation are evicted first, oldest first',
    async () => {
      const { provider, clock } = await h.fresh({ maxSessions: 4 });
      // One stats entry (shard) is filled, as in the test above: the sessions that joined it, in order.
      const joined = async (policy: { idleTimeoutMs: number; absoluteTimeoutMs: number }) => {
        for (;;) {
          const before = await provider.stats();
          const sid = newSid();
          await provider.init(sid, policy);
          const after = await provider.stats();
          const grew = after.findIndex((entry, i) => {
            const was = before[i] as typeof entry;
            return entry.sessions + entry.evicted - was.sessions - was.evicted === 1;
          });
          if (after[grew]?.shard === before[0]?.shard) return sid;
          await provider.destroy(sid); // joined another shard: not part of this test
        }
      };
      // Two users who came back (read again), with the soonest deadlines of all.
      const users = [
        await joined({ idleTimeoutMs: 10_000, absoluteTimeoutMs: 86_400_000 }),
        await joined({ idleTimeoutMs: 10_000, absoluteTimeoutMs: 86_400_000 }),
      ];
      for (const sid of users) expect(await provider.read(sid)).not.toBeNull();
      clock.advance(1000);
      // A flood of sessions nobody came back for, with later deadlines: they evict each other, oldest first.
      const flood: string[] = [];
      for (let i = 0; i < 6; i++) {
        flood.push(await joined({ idleTimeoutMs: 600_000, absoluteTimeoutMs: 86_400_000 }));
        clock.advance(10);
      }
      for (const sid of users) expect(await provider.read(sid), 'a returning user').not.toBeNull();
      for (const sid of flood.slice(0, 4))
        expect(await provider.read(sid), 'an old flood session').toBeNull();
      for (const sid of flood.slice(4))
        expect(await provider.read(sid), 'a new flood session').not.toBeNull();
    },
    'maxSessions',
  );
}

/** Values under keys p0, p1, … of at most `maxValueBytes` each, adding up (keys included) to `total` bytes. */
function filling(total: number, maxValueBytes: number): [string, Uint8Array][] {
  const entries: [string, Uint8Array][] = [];
  for (let left = total, i = 0; left > 0; i++) {
    const key = `p${i}`;
    const size = Math.min(maxValueBytes, left - key.length);
    entries.push([key, sized(size)]);
    left -= key.length + size;
  }
  return entries;
}
