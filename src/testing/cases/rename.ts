import { expect } from 'vitest';
import { SessionExistsError } from '../../errors.js';
import { expectRejection, LONG, newSid, setting, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

/** rename (regenerate at login): one step, the old id dead, nothing changed when refused. */
export function renameCases(h: Harness): void {
  h.test(
    'rename moves the values to the new id and kills the old one; creation time and absolute deadline stay',
    async () => {
      const { provider, clock } = await h.fresh();
      const [oldSid, newSidValue] = [newSid(), newSid()];
      const created = await provider.init(oldSid, LONG, setting({ user: 'ann' }));
      clock.advance(1000);
      const moved = await provider.rename(oldSid, newSidValue);
      expect(moved).toEqual({
        createdAt: created.createdAt,
        idleExpiresAt: clock.now() + LONG.idleTimeoutMs,
        absoluteExpiresAt: created.absoluteExpiresAt,
        expiresAt: clock.now() + LONG.idleTimeoutMs,
      });
      expect(await provider.read(oldSid)).toBeNull();
      expect(await valuesOf(provider, newSidValue)).toEqual({ user: 'ann' });
      // The old id stays dead: writes to it are dropped, not turned into a new session.
      expect(await provider.commit(oldSid, setting({ user: 'mallory' }))).toBeNull();
      expect(await provider.incr(oldSid, 'n', 1)).toBeNull();
      expect(await provider.read(oldSid)).toBeNull();
      expect(await provider.count()).toBe(1);
    },
  );

  h.test(
    'rename onto a live id rejects SessionExistsError and leaves both sessions as they were',
    async () => {
      const { provider } = await h.shared();
      const [mine, taken] = [newSid(), newSid()];
      await provider.init(mine, LONG, setting({ user: 'ann' }));
      await provider.init(taken, LONG, setting({ user: 'bob' }));
      const before = await Promise.all([provider.read(mine), provider.read(taken)]);
      await expectRejection(() => provider.rename(mine, taken), SessionExistsError, 'rename onto a live id');
      expect(await Promise.all([provider.read(mine), provider.read(taken)])).toEqual(before);
    },
  );

  h.test('rename of an unknown id resolves null and creates neither id', async () => {
    const { provider } = await h.shared();
    const [missing, target] = [newSid(), newSid()];
    expect(await provider.rename(missing, target)).toBeNull();
    expect(await provider.read(missing)).toBeNull();
    expect(await provider.read(target)).toBeNull();
  });

  h.test('rename of a session to its own id keeps it', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ user: 'ann' }));
    expect(await provider.rename(sid, sid)).not.toBeNull();
    expect(await valuesOf(provider, sid)).toEqual({ user: 'ann' });
  });

  h.test('renames of many sessions at once each land on their own new id', async () => {
    const { provider } = await h.shared();
    const pairs = Array.from({ length: 20 }, (_, i) => ({ from: newSid(), to: newSid(), i }));
    await Promise.all(pairs.map(({ from, i }) => provider.init(from, LONG, setting({ i }))));
    const moved = await Promise.all(pairs.map(({ from, to }) => provider.rename(from, to)));
    expect(moved.every((meta) => meta !== null)).toBe(true);
    for (const { from, to, i } of pairs) {
      expect(await provider.read(from)).toBeNull();
      expect(await valuesOf(provider, to)).toEqual({ i });
    }
  });
}
