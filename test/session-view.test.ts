import { describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import { SessionView } from '../src/session-view.js';

// One request's view of a session's keys (session-view.ts): the snapshot's map is shared, never changed, and
// copied on the first change; values are decoded on first get. Written for the survivors of a Stryker run
// over the new module (issue 16): each case below failed with one of those mutants in place.

const snapshotOf = (entries: Record<string, unknown>) =>
  new Map(Object.entries(entries).map(([key, value]) => [key, encodeValue(value)]));

describe('SessionView', () => {
  it('answers undefined for a key it does not hold, and decodes a stored one', () => {
    const view = new SessionView(snapshotOf({ user: 'ada' }));
    expect(view.get('missing')).toBeUndefined();
    expect(view.get('user')).toBe('ada');
    expect(view.get('user')).toBe('ada');
  });

  it('forgets a deleted key everywhere: get, has, keys and the encoded copy', () => {
    const snapshot = snapshotOf({ a: 1, b: 2 });
    const view = new SessionView(snapshot);
    expect(view.get('a')).toBe(1);
    view.delete('a');
    expect(view.get('a')).toBeUndefined();
    expect(view.has('a')).toBe(false);
    expect([...view.keys()]).toEqual(['b']);
    expect([...view.encoded()]).toEqual([['b', encodeValue(2)]]);
    // The provider's snapshot is untouched: another request may hold the same map.
    expect([...snapshot.keys()]).toEqual(['a', 'b']);
  });

  it("keeps an incr's answer decoded, and encodes it only when asked", () => {
    const view = new SessionView(snapshotOf({ other: 'x' }));
    view.setDecoded('n', 5);
    view.set('b', 2, encodeValue(2));
    expect(view.get('n')).toBe(5);
    expect(view.get('b')).toBe(2);
    expect(view.has('n')).toBe(true);
    expect(new Map(view.encoded())).toEqual(
      new Map([
        ['other', encodeValue('x')],
        ['n', encodeValue(5)],
        ['b', encodeValue(2)],
      ]),
    );
  });

  it('is empty after clear, and starts sharing nothing of what it held', () => {
    const view = new SessionView(snapshotOf({ a: 1 }));
    view.set('b', 2, encodeValue(2));
    view.clear();
    expect(view.get('a')).toBeUndefined();
    expect(view.get('b')).toBeUndefined();
    expect([...view.keys()]).toEqual([]);
  });
});
