import { describe, expect, it } from 'vitest';
import { ExpiryIndex } from '../../src/providers/expiry-index.js';

// The ids an expiry index holds (`idsHeld`, the diagnostic that must shrink back): stale ids walked past at
// a bucket's head are gone for good, and a compaction keeps only the filed ids. Written for the survivors of
// a Stryker run of the `table` group (expiry-index-model.test.ts checks the answers, not the ids held).

/** An index over a model of which id is filed under which bucket. */
function modelled() {
  const filed = new Map<string, number>();
  const index = new ExpiryIndex(10, (sid, bucket) => filed.get(sid) === bucket);
  const file = (sid: string, at: number) => filed.set(sid, index.add(sid, at));
  const remove = (sid: string) => {
    const bucket = filed.get(sid) as number;
    filed.delete(sid);
    index.remove(sid, bucket);
  };
  return { index, file, remove };
}

describe('ExpiryIndex ids held', () => {
  it('walks past stale ids at the head of a bucket for good', () => {
    const { index, file, remove } = modelled();
    for (const sid of ['a', 'b', 'c']) file(sid, 5);
    file('d', 15);
    remove('a');
    expect(index.idsHeld).toBe(4); // a stays, stale
    expect(index.soonest()).toEqual({ sid: 'b', bucket: 0 });
    expect(index.idsHeld).toBe(3);
    remove('b');
    remove('c'); // the bucket's last session: the bucket goes
    expect(index.idsHeld).toBe(1);
    expect(index.soonest()).toEqual({ sid: 'd', bucket: 1 });
  });

  it('compacts a bucket (at the sweep) once its stale ids pass its live ones and 16, keeping only the filed ids', () => {
    const { index, file, remove } = modelled();
    const sids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    for (const sid of sids) file(sid, 3);
    const held: number[] = [];
    const heldAfterSweep: number[] = [];
    for (const sid of sids.slice(0, 19)) {
      remove(sid);
      held.push(index.idsHeld);
      index.compactQueued(); // what every sweep (the GC tick) does first
      heldAfterSweep.push(index.idsHeld);
    }
    // No removal compacts on the spot (the index holds far fewer than 8 stale ids per session)...
    expect(held).toEqual(Array(19).fill(20));
    // ...and a sweep does once the stale ones (19) pass 1 live + 16: then only the live one is left.
    expect(heldAfterSweep).toEqual([...Array(18).fill(20), 1]);
    expect(index.soonest()).toEqual({ sid: 's19', bucket: 0 });
  });

  it('takes a removal from a bucket it does not hold as nothing to do', () => {
    const { index, file } = modelled();
    file('a', 5);
    index.remove('x', 7);
    expect([index.idsHeld, index.bucketCount]).toEqual([1, 1]);
    expect(index.soonest()).toEqual({ sid: 'a', bucket: 0 });
  });
});
