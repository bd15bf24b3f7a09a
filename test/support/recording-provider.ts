import type { MemoryProvider } from '../../src/providers/memory.js';
import type { SessionProvider } from '../../src/providers/provider.js';
import type { SessionHost } from '../../src/session-writes.js';
import type { Clock } from './session-helpers.js';

/** One call the provider received: its name and its arguments. */
export type ProviderCall = [string, ...unknown[]];

/**
 * The 'memory' provider behind a recorder, for tests of a request's session without HTTP: every call is logged
 * with its arguments, `failWith` makes the next init/commit calls reject, `hold` keeps every write (not the
 * reads) waiting until released, and `overrides` replace methods outright.
 */
export function recordingProvider(
  memory: MemoryProvider,
  overrides: Partial<Record<keyof SessionProvider, unknown>> = {},
) {
  const calls: ProviderCall[] = [];
  const failures: Error[] = [];
  let gate: Promise<void> | undefined;
  const provider = new Proxy(memory, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof SessionProvider];
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        calls.push([String(prop), ...args]);
        if (gate && prop !== 'read') await gate;
        const failure = ['init', 'commit'].includes(String(prop)) ? failures.shift() : undefined;
        if (failure) throw failure;
        return value.apply(target, args);
      };
    },
  }) as SessionProvider;
  return {
    provider,
    calls,
    /** The names of the calls so far. */
    names: () => calls.map(([name]) => name),
    /** The next init/commit calls reject with these errors, in order. */
    failWith: (...errors: Error[]) => failures.push(...errors),
    /** Holds every write until the returned function is called. */
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((resolve) => {
        open = resolve;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

/**
 * The manager's side of a request's session (`SessionHost`) for such tests: `provider` under `policy`, the
 * clock's time, ids sent as they are, no URL parameter, and errors reported into `reported`.
 */
export function testHost(
  provider: SessionProvider,
  clock: Clock,
  limits: Pick<SessionHost, 'policy' | 'maxTimeouts' | 'maxValueBytes'>,
  reported: unknown[],
): SessionHost {
  return {
    provider,
    ...limits,
    now: clock.now,
    touchAfterMs: limits.policy.idleTimeoutMs / 10,
    transportValue: (sid) => sid,
    urlParam: undefined,
    reportError: (error) => reported.push(error),
  };
}
