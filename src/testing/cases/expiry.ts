import { expect } from 'vitest';
import { newSid, SHORT, setting, statsTotal, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

const IDLE = SHORT.idleTimeoutMs;
const ABSOLUTE = SHORT.absoluteTimeoutMs;

/**
 * Idle and absolute expiry with the suite's clock: lazy on every access, swept by gc, never resurrected.
 * Every test here moves the clock, so each has a provider of its own.
 */
export function expiryCases(h: Harness): void {
  h.test('a session dies when its idle timeout passes: alive 1 ms before, gone at the deadline', async () => {
    const { provider, clock } = await h.fresh();
    const sid = newSid();
    await provider.init(sid, SHORT, setting({ a: 1 }));
    clock.advance(IDLE - 1);
    expect(await valuesOf(provider, sid)).toEqual({ a: 1 });
    clock.advance(1);
    expect(await provider.read(sid)).toBeNull();
    // Gone for good, even if the clock could be read otherwise later: the access removed it.
    expect(await provider.destroy(sid)).toBe(false);
  });

  h.test(
    'commit, an empty commit (touch), incr and rename slide the idle deadline; read does not',
    async () => {
      const { provider, clock } = await h.fresh();
      let sid = newSid();
      // An absolute timeout far enough away that only the idle deadline is at play.
      const created = await provider.init(sid, { idleTimeoutMs: IDLE, absoluteTimeoutMs: 12 * IDLE });
      const step = IDLE - 1000;
      const slides: [string, () => Promise<unknown>][] = [
        ['commit', () => provider.commit(sid, setting({ a: 1 }))],
        ['touch', () => provider.commit(sid, {})],
        ['incr', () => provider.incr(sid, 'n', 1)],
        [
          'rename',
          async () => {
            const renamed = newSid();
            await provider.rename(sid, renamed);
            sid = renamed;
          },
        ],
      ];
      for (const [what, slide] of slides) {
        clock.advance(step);
        await slide();
        const snapshot = await provider.read(sid);
        expect(snapshot?.idleExpiresAt, what).toBe(clock.now() + IDLE);
        expect(snapshot?.absoluteExpiresAt, what).toBe(created.absoluteExpiresAt);
      }
      // Reads alone do not keep a session alive.
      clock.advance(step);
      expect(await provider.read(sid)).not.toBeNull();
      clock.advance(IDLE - step);
      expect(await provider.read(sid)).toBeNull();
    },
  );

  h.test('the absolute timeout ends a session however often it is touched', async () => {
    const { provider, clock } = await h.fresh();
    const sid = newSid();
    const created = await provider.init(sid, SHORT);
    while (clock.now() + 5000 < created.absoluteExpiresAt) {
      clock.advance(5000);
      const meta = await provider.commit(sid, {});
      expect(meta?.expiresAt).toBe(Math.min(clock.now() + IDLE, created.absoluteExpiresAt));
    }
    clock.advance(created.absoluteExpiresAt - clock.now() - 1);
    expect(await provider.read(sid)).not.toBeNull();
    clock.advance(1);
    expect(await provider.read(sid)).toBeNull();
    expect(clock.now()).toBe(created.createdAt + ABSOLUTE);
  });

  h.test('count leaves out expired sessions without a gc call', async () => {
    const { provider, clock } = await h.fresh();
    await Promise.all([
      provider.init(newSid(), SHORT),
      provider.init(newSid(), SHORT),
      provider.init(newSid(), { idleTimeoutMs: 2 * IDLE, absoluteTimeoutMs: ABSOLUTE }),
    ]);
    expect(await provider.count()).toBe(3);
    clock.advance(IDLE);
    expect(await provider.count()).toBe(1);
    clock.advance(IDLE);
    expect(await provider.count()).toBe(0);
  });

  h.test('gc removes the expired sessions and only those', async () => {
    const { provider, clock } = await h.fresh();
    const doomed = [newSid(), newSid(), newSid()];
    const survivor = newSid();
    await Promise.all(doomed.map((sid) => provider.init(sid, SHORT)));
    await provider.init(survivor, { idleTimeoutMs: 2 * IDLE, absoluteTimeoutMs: ABSOLUTE });
    await provider.gc();
    expect(await statsTotal(provider, 'sessions')).toBe(4);
    clock.advance(IDLE);
    await provider.gc();
    expect(await statsTotal(provider, 'sessions')).toBe(1);
    expect(await provider.read(survivor)).not.toBeNull();
    for (const sid of doomed) expect(await provider.read(sid)).toBeNull();
  });

  h.test(
    'gc resolves how many sessions it removed',
    async () => {
      const { provider, clock } = await h.fresh();
      await Promise.all(Array.from({ length: 5 }, () => provider.init(newSid(), SHORT)));
      await provider.init(newSid(), { idleTimeoutMs: 2 * IDLE, absoluteTimeoutMs: ABSOLUTE });
      clock.advance(IDLE);
      expect(await provider.gc()).toBe(5);
      expect(await provider.gc()).toBe(0);
    },
    'gcCount',
  );

  h.test(
    'gc(now) sweeps what is expired at the given time',
    async () => {
      const { provider, clock } = await h.fresh();
      const sid = newSid();
      await provider.init(sid, SHORT);
      expect(await provider.gc(clock.now() + IDLE - 1)).toBe(0);
      expect(await provider.read(sid)).not.toBeNull();
      await provider.gc(clock.now() + IDLE);
      expect(await statsTotal(provider, 'sessions')).toBe(0);
      expect(await provider.read(sid)).toBeNull();
    },
    'gcAt',
  );

  h.test('an expired session is never resurrected: commit and incr resolve null, destroy false', async () => {
    const { provider, clock } = await h.fresh();
    const sids = [newSid(), newSid(), newSid()];
    await Promise.all(sids.map((sid) => provider.init(sid, SHORT, setting({ a: 1 }))));
    clock.advance(IDLE);
    const [a, b, c] = sids as [string, string, string];
    expect(await provider.commit(a, setting({ a: 2 }))).toBeNull();
    expect(await provider.incr(b, 'n', 1)).toBeNull();
    expect(await provider.destroy(c)).toBe(false);
    expect(await provider.rename(c, newSid())).toBeNull();
    for (const sid of sids) expect(await provider.read(sid)).toBeNull();
    expect(await provider.count()).toBe(0);
  });

  h.test('init and rename may take an id whose session expired; none of its values remain', async () => {
    const { provider, clock } = await h.fresh();
    const [reused, target, moving] = [newSid(), newSid(), newSid()];
    await provider.init(reused, SHORT, setting({ old: true }));
    await provider.init(target, SHORT, setting({ old: true }));
    clock.advance(IDLE);
    await provider.init(moving, SHORT, setting({ moved: true }));
    const meta = await provider.init(reused, SHORT, setting({ fresh: true }));
    expect(meta.createdAt).toBe(clock.now());
    expect(await valuesOf(provider, reused)).toEqual({ fresh: true });
    expect(await provider.rename(moving, target)).not.toBeNull();
    expect(await valuesOf(provider, target)).toEqual({ moved: true });
  });

  h.test(
    'stats count the sessions removed because they expired, on access and by gc',
    async () => {
      const { provider, clock } = await h.fresh();
      const sids = Array.from({ length: 4 }, () => newSid());
      await Promise.all(sids.map((sid) => provider.init(sid, SHORT)));
      clock.advance(IDLE);
      expect(await provider.read(sids[0] as string)).toBeNull();
      expect(await statsTotal(provider, 'expired')).toBe(1);
      await provider.gc();
      expect(await statsTotal(provider, 'expired')).toBe(4);
      expect(await statsTotal(provider, 'sessions')).toBe(0);
    },
    'expiredStat',
  );

  h.test(
    'a clock that steps back keeps sessions and deadlines as they were',
    async () => {
      const { provider, clock } = await h.fresh();
      const sid = newSid();
      const created = await provider.init(sid, SHORT, setting({ a: 1 }));
      clock.jumpBack(IDLE / 2);
      expect(await valuesOf(provider, sid)).toEqual({ a: 1 });
      await provider.gc();
      expect(await provider.count()).toBe(1);
      // A session created after the step lives by the clock as it now reads.
      const later = newSid();
      const laterMeta = await provider.init(later, SHORT);
      expect(laterMeta.expiresAt).toBe(clock.now() + IDLE);
      expect(await provider.incr(later, 'n', 1)).toBe(1);
      // A deadline is a point in time: reached when the clock gets there again, not before.
      clock.advance(created.expiresAt - clock.now() - 1);
      expect(await provider.read(sid)).not.toBeNull();
      clock.advance(1);
      expect(await provider.read(sid)).toBeNull();
      expect(clock.now()).toBeGreaterThan(laterMeta.expiresAt);
      expect(await provider.read(later)).toBeNull();
    },
    'backwardClock',
  );
}
