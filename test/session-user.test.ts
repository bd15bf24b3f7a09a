import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  OverloadedError,
  SessionDestroyedError,
  UnsupportedError,
} from '../src/errors.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import type { SessionProvider } from '../src/providers/provider.js';
import { RequestSession } from '../src/request-session.js';
import type { RequestLink } from '../src/session-writes.js';
import { generateSid } from '../src/sid.js';
import { recordingProvider, testHost } from './support/recording-provider.js';
import { Clock } from './support/session-helpers.js';

// A session's store operations of issue 13 (setUser, setTimeouts: src/session-user.ts), without HTTP, on the
// real 'memory' provider: what they check, what they send first, and what they do when the store refuses.
// Found by mutation testing: the user-session suites run on every provider and are not in the core group.

const IDLE = 10 * 60_000;
const ABSOLUTE = 60 * 60_000;
const MAX_IDLE = 2 * IDLE;
const MAX_ABSOLUTE = 2 * ABSOLUTE;

function harness(overrides: Partial<Record<keyof SessionProvider, unknown>> = {}) {
  const clock = new Clock();
  const memory = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
  const recorder = recordingProvider(memory, overrides);
  const reported: unknown[] = [];
  const host = testHost(
    recorder.provider,
    clock,
    {
      policy: { idleTimeoutMs: IDLE, absoluteTimeoutMs: ABSOLUTE },
      maxTimeouts: { idleTimeoutMs: MAX_IDLE, absoluteTimeoutMs: MAX_ABSOLUTE },
      maxValueBytes: 1000,
    },
    reported,
  );
  const link: RequestLink = {
    headersWritten: false,
    lateDeliveryPossible: false,
    onDestroyed() {},
    onDestroyFailed() {},
  };
  return {
    clock,
    /** The names of the provider's calls so far. */
    get calls() {
      return recorder.names();
    },
    memory,
    reported,
    failWith: recorder.failWith,
    fresh: () => new RequestSession(host, link, generateSid()),
    async stored() {
      const sid = generateSid();
      await memory.init(sid, host.policy, {});
      const snapshot = await memory.read(sid);
      recorder.calls.length = 0;
      return new RequestSession(host, link, sid, snapshot ?? undefined);
    },
  };
}

describe('setUser', () => {
  it('stores a new session first (its creation, with the pending keys), then binds it, in that order', async () => {
    const h = harness();
    const s = h.fresh();
    s.set('a', 1);
    await s.setUser('ann', { label: 'laptop' });
    expect(h.calls).toEqual(['init', 'bindUser']);
    expect(s.userId).toBe('ann');
    expect((await h.memory.sessionsOf('ann')).map((info) => info.label)).toEqual(['laptop']);
    const read = await h.memory.read(s.id);
    expect(read?.binding?.userId).toBe('ann');
    expect(read?.values.has('a')).toBe(true);
  });

  it('refuses a provider without users, a bad user id and a bad label, before sending anything', async () => {
    const h = harness({ bindUser: undefined });
    const s = h.fresh();
    await expect(s.setUser('ann')).rejects.toThrow(
      new UnsupportedError('setUser: this provider does not bind sessions to users (it lacks users)'),
    );
    const ok = harness();
    const t = ok.fresh();
    await expect(t.setUser('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(t.setUser('ann', { label: 'x'.repeat(201) })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(ok.calls).toEqual([]);
  });

  it('rejects with the failure of the creation it waited for (not a binding to a session never stored)', async () => {
    const h = harness();
    const s = h.fresh();
    s.set('a', 1);
    const overloaded = new OverloadedError('full');
    h.failWith(overloaded);
    await expect(s.setUser('ann')).rejects.toBe(overloaded);
    expect(await h.memory.sessionsOf('ann')).toEqual([]);
    // The caller hears of it; onError (for writes nobody awaits) does not.
    expect(h.reported).toEqual([]);
  });
});

describe('setUser on a session that vanished', () => {
  it('goes on in a new, empty session bound to the user (never the old id)', async () => {
    const h = harness();
    const s = await h.stored();
    s.set('a', 1);
    await s.save();
    const old = s.id;
    await h.memory.destroy(old);
    await s.setUser('ann');
    expect(s.id).not.toBe(old);
    expect(s.isNew).toBe(true);
    expect(s.get('a')).toBeUndefined();
    expect(s.userId).toBe('ann');
    expect((await h.memory.read(s.id))?.binding?.userId).toBe('ann');
    expect(await h.memory.read(old)).toBeNull();
  });

  it('rejects SessionDestroyedError when the new session vanishes too', async () => {
    const h = harness({ bindUser: async () => null });
    const s = await h.stored();
    await expect(s.setUser('ann')).rejects.toThrow(
      new SessionDestroyedError('the session disappeared during setUser'),
    );
    expect(s.userId).toBeUndefined();
  });
});

describe('a bound session', () => {
  it('shows its user and handle until destroyed', async () => {
    const h = harness();
    const s = await h.stored();
    expect(s.userId).toBeUndefined();
    expect(s.handle).toBeUndefined();
    await s.setUser('ann');
    const [info] = await h.memory.sessionsOf('ann');
    expect(s.userId).toBe('ann');
    expect(s.handle).toBe(info?.handle);
    await s.destroy();
    expect(s.userId).toBeUndefined();
    expect(s.handle).toBeUndefined();
  });

  it('keeps its data and user through a regenerate', async () => {
    const h = harness();
    const s = await h.stored();
    await s.setUser('ann');
    s.set('a', 1);
    const old = s.id;
    await s.regenerate();
    expect(s.id).not.toBe(old);
    expect(s.get('a')).toBe(1);
    expect(s.userId).toBe('ann');
    expect(s.isNew).toBe(false);
  });

  it('revoked meanwhile: a regenerate goes on in a new, empty, unbound session (its data stays behind)', async () => {
    const h = harness();
    const s = await h.stored();
    await s.setUser('ann');
    s.set('secret', 1);
    await s.save();
    await h.memory.revoke('ann', s.handle as string);
    await s.regenerate();
    expect(s.get('secret')).toBeUndefined();
    expect(s.keys()).toEqual([]);
    expect(s.userId).toBeUndefined();
    expect(s.isNew).toBe(true);
  });
});

describe('flash messages', () => {
  it('are read once, under their own keys that keys() does not list', async () => {
    const h = harness();
    const s = await h.stored();
    s.set('a', 1);
    s.flash('notice', 'welcome');
    expect(s.keys()).toEqual(['a']);
    await s.save();
    const read = await h.memory.read(s.id);
    expect([...(read?.values.keys() ?? [])].sort()).toEqual(['__flash:notice', 'a']);
    expect(s.takeFlash('notice')).toBe('welcome');
    expect(s.takeFlash('notice')).toBeUndefined();
    expect(s.takeFlash('other')).toBeUndefined();
    expect(s.has('__flash:notice' as never)).toBe(false);
    expect(() => s.flash('', 1)).toThrow(InvalidArgumentError);
    expect(() => s.takeFlash('')).toThrow(InvalidArgumentError);
  });

  it('taking a flash that is not there changes nothing: nothing is sent', async () => {
    const h = harness();
    const s = await h.stored();
    expect(s.takeFlash('none')).toBeUndefined();
    await s.save();
    expect(h.calls).toEqual([]);
  });

  it('a flash set to undefined is taken once too (the key is there)', async () => {
    const h = harness();
    const s = await h.stored();
    s.flash('empty', undefined);
    await s.save();
    const calls = h.calls.length;
    expect(s.takeFlash('empty')).toBeUndefined();
    await s.save();
    expect(h.calls.slice(calls)).toEqual(['commit']);
  });
});

describe('setTimeouts', () => {
  it('gives the session its own timeouts: sent after its creation, and its deadlines follow them', async () => {
    const h = harness();
    const s = h.fresh();
    const start = h.clock.now();
    await s.setTimeouts({ idle: MAX_IDLE, absolute: '2h' });
    expect(h.calls).toEqual(['init', 'setTimeouts']);
    const read = await h.memory.read(s.id);
    expect(read?.idleTimeoutMs).toBe(MAX_IDLE);
    expect(read?.absoluteExpiresAt).toBe(start + MAX_ABSOLUTE);
    expect(s.expiresAt).toBe(start + MAX_IDLE);
    expect(s.writes.rolled).toBe(true);
  });

  it('keeps the manager’s timeout for the one not given', async () => {
    const h = harness();
    const idleOnly = await h.stored();
    const start = h.clock.now();
    await idleOnly.setTimeouts({ idle: IDLE / 2 });
    expect((await h.memory.read(idleOnly.id))?.idleTimeoutMs).toBe(IDLE / 2);
    expect(idleOnly.expiresAt).toBe(start + IDLE / 2);
    expect((await h.memory.read(idleOnly.id))?.absoluteExpiresAt).toBe(start + ABSOLUTE);
    const absoluteOnly = await h.stored();
    await absoluteOnly.setTimeouts({ absolute: ABSOLUTE / 2 });
    expect((await h.memory.read(absoluteOnly.id))?.idleTimeoutMs).toBe(IDLE);
    expect(absoluteOnly.expiresAt).toBe(start + IDLE);
    expect((await h.memory.read(absoluteOnly.id))?.absoluteExpiresAt).toBe(start + ABSOLUTE / 2);
  });

  it('a re-timed stored session re-sends its cookie (rolled), even when its deadline was not due to slide', async () => {
    const h = harness();
    const s = await h.stored();
    expect(s.writes.rolled).toBe(false);
    await s.setTimeouts({ idle: IDLE });
    expect(s.writes.rolled).toBe(true);
  });

  it('refuses what is not an object { idle?, absolute? }, a bad duration, and one over the maximum', async () => {
    const h = harness();
    const s = await h.stored();
    const notObject = new InvalidArgumentError(
      'setTimeouts: timeouts must be an object { idle?, absolute? }',
    );
    await expect(s.setTimeouts(null as never)).rejects.toThrow(notObject);
    await expect(s.setTimeouts('1h' as never)).rejects.toThrow(notObject);
    await expect(s.setTimeouts({ idle: 'soon' })).rejects.toSatisfy(
      (error) => error instanceof InvalidArgumentError && /^setTimeouts: idle/.test((error as Error).message),
    );
    await expect(s.setTimeouts({ absolute: -1 })).rejects.toSatisfy(
      (error) =>
        error instanceof InvalidArgumentError && /^setTimeouts: absolute/.test((error as Error).message),
    );
    await expect(s.setTimeouts({ idle: MAX_IDLE + 1 })).rejects.toThrow(
      new InvalidArgumentError(
        `setTimeouts: idle is ${MAX_IDLE + 1} ms, over the manager's maxTimeouts.idle of ${MAX_IDLE} ms`,
      ),
    );
    await expect(s.setTimeouts({ absolute: MAX_ABSOLUTE + 1 })).rejects.toThrow(
      new InvalidArgumentError(
        `setTimeouts: absolute is ${MAX_ABSOLUTE + 1} ms, over the manager's maxTimeouts.absolute of ${MAX_ABSOLUTE} ms`,
      ),
    );
    expect(h.calls).toEqual([]);
  });

  it('refuses a provider without per-session timeouts', async () => {
    const h = harness({ setTimeouts: undefined });
    const s = await h.stored();
    await expect(s.setTimeouts({ idle: IDLE })).rejects.toThrow(
      new UnsupportedError('setTimeouts: this provider does not keep per-session timeouts'),
    );
  });

  it('rejects with the failure of the commit it waited for, and with SessionDestroyedError when the session is gone', async () => {
    const h = harness();
    const s = await h.stored();
    s.set('a', 1);
    const overloaded = new OverloadedError('full');
    h.failWith(overloaded);
    await expect(s.setTimeouts({ idle: IDLE })).rejects.toBe(overloaded);
    await h.memory.destroy(s.id);
    await expect(s.setTimeouts({ idle: IDLE })).rejects.toThrow(
      new SessionDestroyedError('the session disappeared during setTimeouts'),
    );
    expect(s.writes.rolled).toBe(false);
  });
});
