import { expect } from 'vitest';
import { decodeValue } from '../../codec.js';
import type { SessionSnapshot } from '../../providers/provider.js';
import { LONG, newSid, setting } from '../fixtures.js';
import type { Harness } from '../harness.js';

const decodedAt = (snapshot: SessionSnapshot | null, key: string) => {
  const value = snapshot?.values.get(key);
  return value === undefined ? undefined : decodeValue(value);
};

/**
 * Read-your-writes: an operation issued before another on the same id is applied before it, awaited or not.
 * (A commit is sent as the response headers go out and is not awaited; the user's next request must see it.)
 */
export function orderingCases(h: Harness): void {
  h.test('a commit not awaited is seen by a read issued after it', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG);
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      void provider.commit(sid, setting({ step: i }));
      reads.push(provider.read(sid).then((snapshot) => decodedAt(snapshot, 'step')));
    }
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  h.test(
    'init, incr, delete and destroy not awaited are seen by the operations issued after them',
    async () => {
      const { provider } = await h.shared();
      const sid = newSid();
      const created = provider.init(sid, LONG, setting({ a: 1 }));
      const afterInit = provider.read(sid);
      const counted = provider.incr(sid, 'n', 1);
      const afterIncr = provider.read(sid);
      const deleted = provider.commit(sid, { delete: ['a'] });
      const afterDelete = provider.read(sid);
      const destroyed = provider.destroy(sid);
      const afterDestroy = provider.read(sid);
      const dropped = provider.commit(sid, setting({ a: 2 }));
      expect(await created).not.toBeNull();
      expect(decodedAt(await afterInit, 'a')).toBe(1);
      expect(await counted).toBe(1);
      expect(decodedAt(await afterIncr, 'n')).toBe(1);
      expect(await deleted).not.toBeNull();
      expect(decodedAt(await afterDelete, 'a')).toBeUndefined();
      expect(await destroyed).toBe(true);
      expect(await afterDestroy).toBeNull();
      expect(await dropped).toBeNull();
    },
  );
}
