/**
 * `--pin`: the load generator on one core, the server on the others, with taskset, so the two stop taking
 * each other's core at the scheduler's whim. Without taskset (or with one core) the run goes on unpinned and
 * the report says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** How a run placed its processes, as the report states it. */
export interface Placement {
  readonly mode: 'pinned' | 'unpinned';
  /** CPU lists as taskset takes them, when pinned. */
  readonly clientCpus?: string;
  readonly serverCpus?: string;
  /** Why a run asked to pin is unpinned. */
  readonly note?: string;
}

export const UNPINNED: Placement = { mode: 'unpinned' };

/** "0-2,5" → [0, 1, 2, 5] */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    const last = to !== undefined && Number.isInteger(to) ? to : from;
    for (let cpu = from; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The CPUs this process may run on, per taskset, or undefined when taskset is missing. */
function allowedCpus(): number[] | undefined {
  const answer = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (answer.error !== undefined || answer.status !== 0) return undefined;
  // "pid 123's current affinity list: 0,1"
  const list = answer.stdout.split(':').at(-1) ?? '';
  return parseCpuList(list);
}

/**
 * Pins this process (the client: autocannon runs in it) to the first allowed CPU and answers where servers
 * are to run: every other allowed CPU.
 */
export function pinClient(): Placement {
  const cpus = allowedCpus();
  if (cpus === undefined) return { mode: 'unpinned', note: '--pin asked, but taskset is not installed' };
  if (cpus.length < 2)
    return { mode: 'unpinned', note: `--pin asked, but only CPU ${cpus.join(',')} is allowed` };
  const [client, ...server] = cpus as [number, ...number[]];
  // -a: every thread of the process (libuv's pool, V8's platform threads), not only the main one.
  execFileSync('taskset', ['-a', '-pc', String(client), String(process.pid)], { stdio: 'ignore' });
  return { mode: 'pinned', clientCpus: String(client), serverCpus: server.join(',') };
}
