/** CPU time by thread of a process, from /proc (Linux only), for the probes that split a cost by thread. */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc reports CPU time in clock ticks (USER_HZ), 100 per second on Linux: µs per tick. */
const US_PER_TICK = 10_000;

/** A thread's CPU time so far, in µs (10 ms steps: measure over seconds). */
export interface ThreadTimes {
  readonly user: number;
  readonly system: number;
}

/** Every thread of process `pid` (default this one), by thread id (the main thread's id is the pid). */
export function threadTimes(pid: number | 'self' = 'self'): Map<string, ThreadTimes> {
  const times = new Map<string, ThreadTimes>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the name: state is the first, utime the 12th and stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    times.set(tid, { user: Number(fields[11]) * US_PER_TICK, system: Number(fields[12]) * US_PER_TICK });
  }
  return times;
}
