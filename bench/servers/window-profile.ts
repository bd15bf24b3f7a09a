/**
 * A V8 CPU profile of each measured window of a bench server, and of nothing else: `--cpu-prof` on the whole
 * process also sampled its start-up (module compilation) and the prefill (10,000 HMACs and ids for the
 * shard-session servers, a Map fill for map), which in a 3 s window's profile looked like per-request work.
 * The child starts the profiler when the harness opens a window (`reset`) and writes it when the harness
 * reads the window's stats.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** The environment variable that names the directory the profiles go to (set by `run.js --cpu-prof=DIR`). */
export const WINDOW_PROFILE_ENV = 'SHARD_BENCH_CPU_PROF_DIR';

export class WindowProfiler {
  readonly #dir: string;
  readonly #label: string;
  #session: Session | undefined;
  #windows = 0;

  constructor(dir: string, label: string) {
    this.#dir = dir;
    this.#label = label;
  }

  /** Starts a profile (a window opened); one already running is dropped. */
  async start(): Promise<void> {
    if (this.#session !== undefined) await this.#session.post('Profiler.stop');
    else {
      this.#session = new Session();
      this.#session.connect();
      await this.#session.post('Profiler.enable');
    }
    await this.#session.post('Profiler.start');
  }

  /** Writes the running profile, if any, as `<label>-<pid>-<n>.cpuprofile`. */
  async stop(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    this.#windows += 1;
    const file = join(this.#dir, `${this.#label}-${process.pid}-${this.#windows}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
  }
}
