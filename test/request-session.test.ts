import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { OverloadedError, SessionDestroyedError, SessionTooLargeError } from '../src/errors.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import { RequestSession } from '../src/request-session.js';
import type { RequestLink } from '../src/session-writes.js';
import { generateSid } from '../src/sid.js';
import { recordingProvider, testHost } from './support/recording-provider.js';
import { Clock } from './support/session-helpers.js';

// A request's session and its writes, without HTTP: what travels to the provider, when, and who hears of a
// failure. The provider is the 'memory' one behind a recorder; `failWith` makes its writes reject.

const IDLE = 10 * 60_000;
const ABSOLUTE = 60 * 60_000;

function harness() {
  const clock = new Clock();
  const memory = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
  const recorder = recordingProvider(memory);
  const { calls } = recorder;
  const reported: unknown[] = [];
  const policy = { idleTimeoutMs: IDLE, absoluteTimeoutMs: ABSOLUTE };
  const host = testHost(
    recorder.provider,
    clock,
    { policy, maxTimeouts: policy, maxValueBytes: 100 },
    reported,
  );
  const link: RequestLink & { headersWritten: boolean; destroyedCalls: number } = {
    headersWritten: false as boolean,
    lateDeliveryPossible: false,
    destroyedCalls: 0,
    onDestroyed() {
      this.destroyedCalls++;
    },
    onDestroyFailed() {},
  };
  return {
    clock,
    calls,
    reported,
    link,
    host,
    memory,
    failWith: recorder.failWith,
    hold: recorder.hold,
    /** A stored session with `values`, loaded as a request would (its snapshot read now). */
    async stored(values: Record<string, unknown> = {}, ageMs = 0) {
      const sid = generateSid();
      await memory.init(sid, host.policy, {
        set: Object.entries(values).map(([k, v]) => [k, encodeValue(v)]),
      });
      clock.advance(ageMs);
      const snapshot = await memory.read(sid);
      calls.length = 0;
      return new RequestSession(host, link, sid, snapshot ?? undefined);
    },
    fresh: () => new RequestSession(host, link, generateSid()),
    names: recorder.names,
  };
}

describe('what a flush sends', () => {
  it('only the changed keys travel, as an exact delta', async () => {
    const h = harness();
    const s = await h.stored({ a: 1, b: 2, c: 3 });
    s.set('a', 10);
    s.delete('b');
    await s.save();
    expect(h.calls).toEqual([['commit', s.id, { set: [['a', encodeValue(10)]], delete: ['b'] }]]);
    h.calls.length = 0;
    s.set('c', 30);
    await s.save();
    expect(h.calls).toEqual([['commit', s.id, { set: [['c', encodeValue(30)]] }]]);
    h.calls.length = 0;
    s.delete('a');
    await s.save();
    expect(h.calls).toEqual([['commit', s.id, { delete: ['a'] }]]);
  });

  it('an untouched session sends nothing, and a read-only request slides only past the touch fraction', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    await s.save();
    expect(h.calls).toEqual([]);
    const notDue = await h.stored({ a: 1 }, IDLE / 10);
    await notDue.save();
    expect(h.calls).toEqual([]);
    const due = await h.stored({ a: 1 }, IDLE / 10 + 1);
    await due.save();
    expect(h.calls).toEqual([['commit', due.id, {}]]);
  });

  it('a new session is created once, then committed', async () => {
    const h = harness();
    const s = h.fresh();
    s.set('a', 1);
    await s.save();
    s.set('b', 2);
    await s.save();
    expect(h.names()).toEqual(['init', 'commit']);
    expect(decodeValue((await h.memory.read(s.id))?.values.get('b') as Uint8Array)).toBe(2);
  });

  it('before the headers, changes wait for the flush: changes across ticks travel as one commit', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    s.set('a', 2);
    await Promise.resolve();
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(h.calls).toEqual([]);
    s.set('b', 3);
    await s.save();
    expect(h.calls).toEqual([
      [
        'commit',
        s.id,
        {
          set: [
            ['a', encodeValue(2)],
            ['b', encodeValue(3)],
          ],
        },
      ],
    ]);
  });

  it('save() waits for the store’s answer, and resolves nothing but undefined', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    s.set('a', 2);
    const release = h.hold();
    let saved = false;
    const saving = s.save().then((value) => {
      saved = true;
      return value;
    });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(saved).toBe(false);
    release();
    expect(await saving).toBeUndefined();
  });

  it('changes made after the headers are flushed on the next microtask, every batch of them', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    h.link.headersWritten = true;
    s.set('a', 2);
    s.set('b', 3);
    expect(h.calls).toEqual([]);
    await Promise.resolve();
    expect(h.calls).toEqual([
      [
        'commit',
        s.id,
        {
          set: [
            ['a', encodeValue(2)],
            ['b', encodeValue(3)],
          ],
        },
      ],
    ]);
    s.delete('b');
    await Promise.resolve();
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]).toEqual(['commit', s.id, { delete: ['b'] }]);
  });
});

describe('who hears of a failed write', () => {
  it('save() rejects with the first failure and tells onError nothing', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    const [first, second] = [new OverloadedError('first'), new OverloadedError('second')];
    h.failWith(first, second);
    s.set('a', 2);
    s.writes.flushNow();
    s.set('a', 3);
    await expect(s.save()).rejects.toBe(first);
    expect(h.reported).toEqual([]);
    await expect(s.save()).resolves.toBeUndefined(); // the failure was handed over once
  });

  it('a flush as the headers go out, and one after them, report to onError', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    const [first, second] = [new OverloadedError('first'), new OverloadedError('second')];
    h.failWith(first, second);
    s.set('a', 2);
    s.writes.flushInBackground();
    await s.writes.settle();
    expect(h.reported).toEqual([first]);
    h.link.headersWritten = true;
    s.set('a', 3);
    await Promise.resolve();
    await s.writes.settle();
    expect(h.reported).toEqual([first, second]);
  });

  it('incr on a new session rejects with the failed creation and tells onError nothing', async () => {
    const h = harness();
    const s = h.fresh();
    const failure = new OverloadedError('full');
    h.failWith(failure);
    s.set('a', 1);
    await expect(s.incr('n')).rejects.toBe(failure);
    expect(h.reported).toEqual([]);
  });
});

describe('the request’s view', () => {
  it('values are decoded once; set keeps the object itself; incr’s number reads back', async () => {
    const h = harness();
    const s = await h.stored({ o: { x: 1 } });
    expect(s.get('o')).toBe(s.get('o'));
    const mine = { y: 2 };
    s.set('m', mine);
    expect(s.get('m')).toBe(mine);
    expect(await s.incr('n', 5)).toBe(5);
    expect(s.get('n')).toBe(5);
    expect(s.has('n')).toBe(true);
  });

  it('takes a value of exactly maxValueBytes and refuses one byte more, saying how large', () => {
    const h = harness();
    const s = h.fresh();
    expect(encodeValue('x'.repeat(98)).byteLength).toBe(100);
    s.set('k', 'x'.repeat(98));
    expect(() => s.set('k', 'x'.repeat(99))).toThrow(SessionTooLargeError);
    expect(() => s.set('k', 'x'.repeat(99))).toThrow(/the value of "k" is 101 bytes, over the limit of 100/);
  });

  it('expiresAt: a new session’s idle deadline; a write or incr slides it; a regenerate slides it', async () => {
    const h = harness();
    expect(h.fresh().expiresAt).toBe(h.clock.now() + IDLE);
    const s = await h.stored({ a: 1 });
    const loaded = s.expiresAt;
    h.clock.advance(1000); // well under the touch fraction
    expect(s.expiresAt).toBe(loaded);
    await s.incr('n');
    expect(s.expiresAt).toBe(h.clock.now() + IDLE);
    const r = await h.stored({ a: 1 });
    h.clock.advance(1000);
    await r.regenerate();
    expect(r.expiresAt).toBe(h.clock.now() + IDLE);
    // The rename slid the deadline: no extra commit to slide it again.
    h.calls.length = 0;
    await r.save();
    expect(h.calls).toEqual([]);
  });

  it('regenerate({ keep: false }) drops the pending changes too, and restarts both deadlines', async () => {
    const h = harness();
    const s = await h.stored({ a: 1 });
    h.clock.advance(30 * 60_000);
    s.set('x', 1);
    await s.regenerate({ keep: false });
    expect(s.isNew).toBe(true);
    expect(s.keys()).toEqual([]);
    expect(s.expiresAt).toBe(h.clock.now() + IDLE);
    s.set('y', 2);
    await s.save();
    const stored = await h.memory.read(s.id);
    expect([...(stored?.values.keys() ?? [])]).toEqual(['y']);
    expect(stored?.absoluteExpiresAt).toBe(h.clock.now() + ABSOLUTE);
  });

  it('incr on a session that vanished continues in a new, empty session', async () => {
    const h = harness();
    const s = await h.stored({ user: 'ann' });
    const old = s.id;
    await h.memory.destroy(old);
    expect(await s.incr('n')).toBe(1);
    expect(s.id).not.toBe(old);
    expect(s.keys()).toEqual(['n']);
    expect(s.get('user')).toBeUndefined();
  });

  it('incr rejects SessionDestroyedError when the new session it went on in vanishes too', async () => {
    const h = harness();
    // A store that loses every session between the write and the increment (a logout racing each one).
    const provider = new Proxy(h.host.provider, {
      get: (target, prop) => (prop === 'incr' ? async () => null : Reflect.get(target, prop)),
    });
    const s = new RequestSession({ ...h.host, provider }, h.link, generateSid());
    await expect(s.incr('n')).rejects.toThrow(
      new SessionDestroyedError('the session disappeared during incr'),
    );
    expect(s.get('n')).toBeUndefined();
  });

  it('destroy: once, the store asked only for a stored id, and nothing is sent after it', async () => {
    const h = harness();
    const fresh = h.fresh();
    fresh.set('a', 1); // pending, never sent
    await fresh.destroy();
    expect(h.calls).toEqual([]);
    const s = await h.stored({ a: 1 }, IDLE / 2); // a slide would be due
    await s.destroy();
    await s.destroy();
    await s.save();
    expect(h.calls).toEqual([['destroy', s.id]]);
    expect(h.link.destroyedCalls).toBe(2);
    expect(s.keys()).toEqual([]);
    expect(s.has('a')).toBe(false);
    expect(s.get('a')).toBeUndefined();
    expect(s.url('/a')).toBe('/a');
  });
});
