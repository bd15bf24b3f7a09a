/**
 * Failures of the commits nobody awaits (those sent as the response's headers go out): counted for the
 * manager's `stats()`, and handed to the app's `onError` or, by default, turned into process warnings at a
 * bounded rate. Under overload every request's commit can fail: a warning each flooded the log with
 * thousands of identical lines per second, which made the overload worse.
 */

/** At most one default warning per this many ms; the ones in between are counted and summarised. */
export const COMMIT_WARNING_INTERVAL_MS = 10_000;

/** The `code` of the default warning (`process.on('warning')` receives it as `warning.code`). */
export const COMMIT_WARNING_CODE = 'SHARD_SESSION_COMMIT_FAILED';

// A session id (43 base64url characters), or a longer run of them (a signed id): never written to a log.
const ID_LIKE = /[A-Za-z0-9_-]{43,}(?:\.[A-Za-z0-9_+/=-]+)?/g;

export class UnawaitedCommitFailures {
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #now: () => number;
  #count = 0;
  /** Failures since the last warning that did not get one of their own. */
  #suppressed = 0;
  #lastWarningAt = Number.NEGATIVE_INFINITY;
  #latest = '';

  /** With `onError`, every failure goes to it; without, to rate-limited process warnings. */
  constructor(onError: ((error: unknown) => void) | undefined, now: () => number) {
    this.#onError = onError;
    this.#now = now;
  }

  /** Failures so far. */
  get count(): number {
    return this.#count;
  }

  report(error: unknown): void {
    this.#count++;
    if (this.#onError !== undefined) {
      try {
        this.#onError(error);
      } catch {
        // A throwing error handler must not turn into an unhandled rejection.
      }
      return;
    }
    this.#latest = describe(error);
    const now = this.#now();
    if (now - this.#lastWarningAt < COMMIT_WARNING_INTERVAL_MS) {
      this.#suppressed++;
      return;
    }
    this.#lastWarningAt = now;
    this.#warn();
  }

  /** Warns about the failures not warned about yet (at close, so that the last ones are not lost). */
  flush(): void {
    if (this.#suppressed > 0) this.#warn();
  }

  #warn(): void {
    const more = this.#suppressed;
    this.#suppressed = 0;
    const message =
      more === 0
        ? `a session commit sent as the headers went out failed: ${this.#latest}`
        : `${more + 1} session commits sent as the headers went out failed since the last warning ` +
          `(${more} not warned about, at most one warning per ${COMMIT_WARNING_INTERVAL_MS / 1000} s); the latest: ${this.#latest}`;
    process.emitWarning(message, { type: 'SessionCommitWarning', code: COMMIT_WARNING_CODE });
  }
}

/** The error's name and message, without anything shaped like a session id. */
function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(ID_LIKE, '<id>');
}
