import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedError } from '../src/errors.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import type { SessionEvent, SessionProvider } from '../src/providers/provider.js';
import { SessionEvents } from '../src/session-events.js';
import { generateSid } from '../src/sid.js';

// The manager's listeners of session events (src/session-events.ts) on the real 'memory' provider: who is
// called for which event, when the provider is subscribed, and what a throwing listener does. Found by mutation
// testing: the user-session suites that reach it run on every provider and are not in the core group.

function harness(withoutEvents = false) {
  const memory = createMemoryProvider({ gcIntervalMs: 0 });
  let subscriptions = 0;
  const provider = new Proxy(memory, {
    get(target, prop) {
      if (prop === 'onEvents') {
        if (withoutEvents) return undefined;
        return (receiver: (events: readonly SessionEvent[]) => void) => {
          subscriptions++;
          target.onEvents(receiver);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as SessionProvider;
  const reported: unknown[] = [];
  const events = new SessionEvents(provider, (error) => reported.push(error));
  return {
    memory,
    events,
    reported,
    subscriptions: () => subscriptions,
    /** A stored session bound to `userId`: its 'created' event is on its way. */
    async login(userId: string): Promise<string> {
      const sid = generateSid();
      await memory.init(sid, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 }, {});
      const binding = await memory.bindUser(sid, userId);
      return binding?.handle as string;
    },
  };
}

/** A listener that records its events, and resolves `next()` when the next one arrives. */
function recorder() {
  const got: SessionEvent[] = [];
  let wake: (() => void) | undefined;
  const listener = (event: SessionEvent) => {
    got.push(event);
    wake?.();
  };
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  return { got, listener, next };
}

describe('session events', () => {
  it('calls each listener of an event’s type once per event, and none of the other types', async () => {
    const h = harness();
    const created = recorder();
    const alsoCreated = recorder();
    const destroyed = recorder();
    h.events.on('created', created.listener);
    h.events.on('created', alsoCreated.listener);
    h.events.on('destroyed', destroyed.listener);
    const arrived = alsoCreated.next();
    const handle = await h.login('ann');
    await arrived;
    const login = { type: 'created', handle, userId: 'ann', reason: 'login' };
    expect(created.got).toEqual([login]);
    expect(alsoCreated.got).toEqual([login]);
    const revoked = destroyed.next();
    await h.memory.revoke('ann', handle);
    await revoked;
    expect(destroyed.got).toEqual([{ type: 'destroyed', handle, userId: 'ann', reason: 'revoke' }]);
    expect(created.got).toHaveLength(1);
    expect(h.reported).toEqual([]);
  });

  it('subscribes to the provider on the first `on` only, and not for a refused one', async () => {
    const h = harness();
    expect(() => h.events.on('login' as never, () => undefined)).toThrow(
      new InvalidArgumentError('on: unknown event type "login"'),
    );
    expect(() => h.events.on('created', 'listener' as never)).toThrow(
      new InvalidArgumentError('on: the listener must be a function'),
    );
    expect(h.subscriptions()).toBe(0);
    const created = recorder();
    h.events.on('created', created.listener);
    h.events.on('expired', () => undefined);
    expect(h.subscriptions()).toBe(1);
    const arrived = created.next();
    await h.login('ann');
    await arrived;
    expect(created.got).toHaveLength(1);
  });

  it('accepts every event type', () => {
    const h = harness();
    for (const type of ['created', 'destroyed', 'expired', 'evicted'] as const)
      h.events.on(type, () => undefined);
    expect(h.subscriptions()).toBe(1);
  });

  it('refuses to listen on a provider without events', () => {
    const h = harness(true);
    expect(() => h.events.on('created', () => undefined)).toThrow(
      new UnsupportedError('on: this provider does not emit session events (it lacks events)'),
    );
  });

  it('a throwing listener is reported and does not stop the others; `off` stops one listener', async () => {
    const h = harness();
    const failure = new Error('listener failed');
    const thrower = () => {
      throw failure;
    };
    const after = recorder();
    const removed = recorder();
    h.events.on('created', thrower);
    h.events.on('created', removed.listener);
    h.events.on('created', after.listener);
    h.events.off('created', removed.listener);
    h.events.off('destroyed', after.listener);
    const arrived = after.next();
    await h.login('ann');
    await arrived;
    expect(after.got).toHaveLength(1);
    expect(removed.got).toEqual([]);
    expect(h.reported).toEqual([failure]);
  });

  it('an event of a type nobody listens to calls nobody and reports nothing', async () => {
    const h = harness();
    const destroyed = recorder();
    h.events.on('destroyed', destroyed.listener);
    const handle = await h.login('ann');
    const revoked = destroyed.next();
    await h.memory.revoke('ann', handle);
    await revoked;
    // The 'created' event of the login came before, in its own batch, to no listener.
    expect(destroyed.got.map((event) => event.type)).toEqual(['destroyed']);
    expect(h.reported).toEqual([]);
  });
});
