import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  createSessionManager,
  InvalidArgumentError,
  type SessionManager,
  UnsupportedError,
} from '../src/index.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import type { SessionProvider } from '../src/providers/provider.js';
import { generateSid } from '../src/sid.js';
import { overriding } from './support/session-helpers.js';

// The manager's user methods (sessionsOf, revoke, revokeUser) and its on/off chaining, on the real 'memory'
// provider: the checks before the provider is asked, the order of the list, and what a closed manager or a
// provider without users answers. Found by mutation testing: only the user-session suites (every provider,
// not in the core group) reached them.

const POLICY = { idleTimeoutMs: 60 * 60_000, absoluteTimeoutMs: 24 * 60 * 60_000 };

describe("the manager's user methods", () => {
  let manager: SessionManager | undefined;
  let time = Date.UTC(2026, 0, 1);
  afterEach(async () => {
    await manager?.close();
    manager = undefined;
  });

  function start(provider: SessionProvider = createMemoryProvider({ gcIntervalMs: 0, now: () => time })) {
    manager = createSessionManager({ provider, now: () => time });
    return { manager, provider };
  }

  /** A session created at `at`, bound to `userId`; resolves its handle. */
  async function loginAt(provider: SessionProvider, at: number, userId: string): Promise<string> {
    time = at;
    const sid = generateSid();
    await provider.init(sid, POLICY, {});
    return (await provider.bindUser?.(sid, userId))?.handle as string;
  }

  it('lists a user’s sessions oldest first, whatever order they were created in', async () => {
    const { manager, provider } = start();
    const base = Date.UTC(2026, 0, 1);
    const middle = await loginAt(provider, base + 2_000, 'ann');
    const newest = await loginAt(provider, base + 3_000, 'ann');
    const oldest = await loginAt(provider, base + 1_000, 'ann');
    await loginAt(provider, base, 'bob');
    const listed = await manager.sessionsOf('ann');
    expect(listed.map((s) => s.handle)).toEqual([oldest, middle, newest]);
    expect(listed.map((s) => s.createdAt)).toEqual([base + 1_000, base + 2_000, base + 3_000]);
  });

  it('revokes one session by handle, or all of a user but one', async () => {
    const { manager, provider } = start();
    const kept = await loginAt(provider, time, 'ann');
    const revoked = await loginAt(provider, time, 'ann');
    await loginAt(provider, time, 'ann');
    expect(await manager.revoke('ann', revoked)).toBe(true);
    expect(await manager.revoke('ann', revoked)).toBe(false);
    expect(await manager.revokeUser('ann', { except: kept })).toBe(1);
    expect((await manager.sessionsOf('ann')).map((s) => s.handle)).toEqual([kept]);
    expect(await manager.revokeUser('ann')).toBe(1);
    expect(await manager.sessionsOf('ann')).toEqual([]);
  });

  it('refuses a bad user id or handle before asking the provider', async () => {
    const asked: string[] = [];
    const memory = createMemoryProvider({ gcIntervalMs: 0 });
    const recording = new Proxy(memory, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          asked.push(String(prop));
          return value.apply(target, args);
        };
      },
    });
    const { manager } = start(recording);
    await expect(manager.sessionsOf('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(manager.revoke('', 'A'.repeat(22))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(manager.revoke('ann', '')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(manager.revokeUser('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(manager.revokeUser('ann', { except: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(asked.filter((name) => ['sessionsOf', 'revoke', 'revokeUser'].includes(name))).toEqual([]);
  });

  it('a closed manager answers ClosedError; a provider without users, UnsupportedError naming the method', async () => {
    const withoutUsers = overriding(createMemoryProvider({ gcIntervalMs: 0 }), {});
    const { manager: bare } = start(withoutUsers);
    for (const [method, call] of [
      ['sessionsOf', () => bare.sessionsOf('ann')],
      ['revoke', () => bare.revoke('ann', 'h')],
      ['revokeUser', () => bare.revokeUser('ann')],
    ] as const) {
      await expect(call()).rejects.toThrow(
        new UnsupportedError(`${method}: this provider does not index sessions by user (it lacks users)`),
      );
    }
    await bare.close();
    const { manager: closed } = start();
    await closed.close();
    const refusal = new ClosedError('session manager is closed');
    await expect(closed.sessionsOf('ann')).rejects.toThrow(refusal);
    await expect(closed.revoke('ann', 'h')).rejects.toThrow(refusal);
    await expect(closed.revokeUser('ann')).rejects.toThrow(refusal);
  });

  it('on and off return the manager, for chaining', () => {
    const { manager } = start();
    const listener = () => undefined;
    expect(manager.on('created', listener)).toBe(manager);
    expect(manager.off('created', listener)).toBe(manager);
  });
});
