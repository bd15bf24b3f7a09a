import { InvalidArgumentError } from '../errors.js';

/**
 * The contract suite's clock: it starts at the real `Date.now()` and moves only when a test says so.
 *
 * Starting at real time (not at some round number near 1970) matters to providers over external stores: they
 * compare deadlines with this clock, but may also hand the server a TTL or an absolute expiry time, which
 * must not lie decades in the past. The clock only moves forward, except in the one test dedicated to a
 * clock that steps back (`jumpBack`), so a deadline the suite still expects to be alive is never behind the
 * server's own time by more than the real time a test takes.
 */
export class ContractClock {
  #time = Date.now();

  /** The current time, in ms since the epoch: pass this function to the provider as its clock. */
  readonly now = (): number => this.#time;

  /** Moves the clock forward by `ms` (a whole, non-negative number of milliseconds). */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new InvalidArgumentError(`advance: ${ms} is not a whole ms >= 0`);
    this.#time += ms;
  }

  /** Steps the clock back by `ms`, as an NTP correction would: only for the clock-jump test. */
  jumpBack(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new InvalidArgumentError(`jumpBack: ${ms} is not a whole ms >= 0`);
    this.#time -= ms;
  }
}
