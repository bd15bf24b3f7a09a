import { readdirSync, readFileSync } from 'node:fs';

/**
 * The names of this process's threads, from Linux's /proc/self/task (Node 22 and later name libuv's and V8's
 * threads, and Node 24 its workers' too, so a failure can say which thread is left over; on Node 20 most are
 * "node"). A thread that exits between the listing and the read of its name is left out.
 */
export function threadNames(): string[] {
  const names: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      names.push(readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
    } catch {
      // it exited in between
    }
  }
  return names;
}

/**
 * Resolves once the process runs at most `most` threads; fails after `ms`, naming the threads left. Waits
 * rather than counting once: a thread Node has joined can still be listed in /proc for a moment, while the
 * kernel finishes its exit, and a CI machine can hold that moment long. A thread that really stays (a shard
 * started after close()) fails it all the same.
 */
export async function untilThreadsAtMost(most: number, ms: number, what: string): Promise<void> {
  const since = performance.now();
  for (;;) {
    const names = threadNames();
    if (names.length <= most) return;
    if (performance.now() - since > ms) {
      throw new Error(
        `${what}: ${names.length} threads after ${ms} ms, at most ${most} expected (${names.join(', ')})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
