import { expect } from 'vitest';
import { decodeValue, encodeValue } from '../codec.js';
import type { SessionError } from '../errors.js';
import type { SessionPolicy, SessionProvider, SessionSnapshot } from '../providers/provider.js';
import { generateSid } from '../sid.js';

/**
 * Timeouts of the tests that share a provider: far longer than any test, so no session of one test expires
 * during another, even where the store also keeps a real TTL.
 */
export const LONG: SessionPolicy = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

/** Timeouts of the expiry tests: whole seconds, and long enough that real time never expires a session. */
export const SHORT: SessionPolicy = { idleTimeoutMs: 10_000, absoluteTimeoutMs: 30_000 };

/** A fresh, valid session id. */
export const newSid = generateSid;

/** One encoded value, as the manager would commit it. */
export const bytes = (value: unknown): Uint8Array => encodeValue(value);

/** The delta that sets each entry of `values` to its encoded value. */
export function setting(values: Record<string, unknown>): { set: [string, Uint8Array][] } {
  return { set: Object.entries(values).map(([key, value]) => [key, encodeValue(value)]) };
}

/** A snapshot's values, decoded, as a plain object with sorted keys (providers need not keep key order). */
export function decoded(snapshot: SessionSnapshot | null): Record<string, unknown> | null {
  if (!snapshot) return null;
  const entries = [...snapshot.values].map(([key, value]) => [key, decodeValue(value)] as const);
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Reads a session and decodes its values. */
export async function valuesOf(
  provider: SessionProvider,
  sid: string,
): Promise<Record<string, unknown> | null> {
  return decoded(await provider.read(sid));
}

/** The constructor of a typed error, for `instanceof` checks. */
export type ErrorClass = abstract new (...args: never[]) => SessionError;

/**
 * Asserts that `call` returns a promise that rejects with `type`. A synchronous throw fails the test: a
 * caller that only attaches `.catch` (or awaits inside try) must see every error the same way.
 */
export async function expectRejection(
  call: () => Promise<unknown>,
  type: ErrorClass,
  what: string,
): Promise<void> {
  let pending: Promise<unknown>;
  try {
    pending = call();
  } catch (error) {
    expect.fail(`${what}: threw synchronously (${String(error)}) instead of returning a rejected promise`);
  }
  await expect(pending, what).rejects.toBeInstanceOf(type);
}

/** The sum of one numeric field over every entry of `stats()`. */
export async function statsTotal(
  provider: SessionProvider,
  field: 'sessions' | 'ops' | 'expired' | 'evicted',
): Promise<number> {
  const stats = await provider.stats();
  return stats.reduce((sum, entry) => sum + entry[field], 0);
}
