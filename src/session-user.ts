import { parseDuration } from './duration.js';
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import { checkLabel, checkUserId } from './providers/contract-checks.js';
import type { SessionBinding, SessionMeta, SessionPolicy } from './providers/provider.js';
import type { SessionTimeouts } from './session.js';
import type { SessionHost, SessionWrites } from './session-writes.js';

/**
 * The session's operations of issue 13 that go to the store (binding to a user, its own timeouts), and the
 * reserved key prefix of flash messages. Each first makes sure the store holds the session (`writes.store()`,
 * which sends the creation or the pending changes), then sends its own operation right behind on the ordered
 * channel, and waits for both.
 */

/** Keys of flash messages: `takeFlash('notice')` reads `__flash:notice`. `keys()` does not list them. */
export const FLASH_PREFIX = '__flash:';

/** Binds the session to `userId`; resolves null when the session is gone at the store. */
export async function bindUser(
  host: SessionHost,
  writes: SessionWrites,
  userId: string,
  label: string | undefined,
): Promise<SessionBinding | null> {
  const provider = host.provider;
  if (typeof provider.bindUser !== 'function') {
    throw new UnsupportedError('setUser: this provider does not bind sessions to users (it lacks users)');
  }
  checkUserId(userId);
  checkLabel(label);
  writes.store();
  const [binding] = await Promise.all([provider.bindUser(writes.sid, userId, label), writes.settle()]);
  const error = writes.takeError();
  if (error !== undefined) throw error;
  return binding;
}

/** Gives the session its own timeouts within the manager's maximums; resolves null when it is gone. */
export async function retime(
  host: SessionHost,
  writes: SessionWrites,
  timeouts: SessionTimeouts,
): Promise<{ meta: SessionMeta; policy: SessionPolicy } | null> {
  const provider = host.provider;
  if (typeof provider.setTimeouts !== 'function') {
    throw new UnsupportedError('setTimeouts: this provider does not keep per-session timeouts');
  }
  if (timeouts === null || typeof timeouts !== 'object') {
    throw new InvalidArgumentError('setTimeouts: timeouts must be an object { idle?, absolute? }');
  }
  const policy: SessionPolicy = {
    idleTimeoutMs: timeout('idle', timeouts.idle, host.policy.idleTimeoutMs, host.maxTimeouts.idleTimeoutMs),
    absoluteTimeoutMs: timeout(
      'absolute',
      timeouts.absolute,
      host.policy.absoluteTimeoutMs,
      host.maxTimeouts.absoluteTimeoutMs,
    ),
  };
  writes.store();
  const [meta] = await Promise.all([provider.setTimeouts(writes.sid, policy), writes.settle()]);
  const error = writes.takeError();
  if (error !== undefined) throw error;
  if (meta === null) return null;
  writes.retimed();
  return { meta, policy };
}

function timeout(name: string, value: number | string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  let ms: number;
  try {
    ms = parseDuration(`setTimeouts: ${name}`, value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  if (ms > max) {
    throw new InvalidArgumentError(
      `setTimeouts: ${name} is ${ms} ms, over the manager's maxTimeouts.${name} of ${max} ms`,
    );
  }
  return ms;
}
