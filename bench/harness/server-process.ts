import { type ChildProcess, fork } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlMessage, ControlRequest, ServerStats } from '../servers/protocol.js';

/** Where the compiled child entry point is, whether this module runs compiled (dist/) or from source (vitest). */
export function childScript(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? resolve(dirname(here), '../../dist/bench/servers/child.js')
    : resolve(dirname(here), '../servers/child.js');
}

// Large populations of the peers' stores (JSON strings, Session objects) need more than the default heap;
// the same limit for every server keeps their garbage collectors comparable. --expose-gc: every server
// collects its garbage after the prefill, so no server starts its measurement with another's debt.
const CHILD_EXEC_ARGV = ['--max-old-space-size=8192', '--expose-gc'];

/** Extra Node flags for every server process, e.g. `--cpu-prof` to see where a server spends its time. */
export const childFlags: string[] = [];
const START_TIMEOUT_MS = 30_000;
const CONTROL_TIMEOUT_MS = 300_000;

type Pending = { resolve: (message: ControlMessage) => void; reject: (error: Error) => void };
type RequestBody = ControlRequest extends infer R
  ? R extends ControlRequest
    ? Omit<R, 'id'>
    : never
  : never;

/** One bench server running in its own child process, driven over the IPC channel. */
export class ServerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (message: ControlMessage) => {
      if (!('id' in message)) return;
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      waiter.resolve(message);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      const error = new Error(
        `${name} exited (${signal ?? code})${this.stderrTail ? `: ${this.stderrTail}` : ''}`,
      );
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  /**
   * Forks the server, waits until it listens. With `cpus` (a taskset CPU list), the process starts pinned to
   * them: taskset runs node, so every thread the server ever makes inherits the affinity.
   */
  static start(name: string, cpus?: string): Promise<ServerProcess> {
    const nodeArgs = [...CHILD_EXEC_ARGV, ...childFlags];
    const child = fork(childScript(), [name], {
      ...(cpus === undefined
        ? { execArgv: nodeArgs }
        : { execPath: 'taskset', execArgv: ['-c', cpus, process.execPath, ...nodeArgs] }),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}) before listening: ${stderr}`));
      };
      child.once('exit', onExit);
      child.once('message', (message: ControlMessage) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        if ('type' in message && message.type === 'ready') {
          resolvePromise(new ServerProcess(name, child, message.port));
        } else {
          child.kill();
          reject(new Error(`${name} failed to start: ${'message' in message ? message.message : '?'}`));
        }
      });
    });
  }

  /** The server's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Creates `count` sessions in the server's store and answers the Cookie values of `sample` of them. */
  async prefill(count: number, sample: number): Promise<string[]> {
    const answer = await this.request({ type: 'prefill', count, sample });
    return answer.cookies ?? [];
  }

  /** Collects the main thread's garbage; answers the process's memory afterwards. */
  async collect(): Promise<{ rssBytes: number; heapUsedBytes: number }> {
    const answer = await this.request({ type: 'collect' });
    if (answer.memory === undefined) throw new Error(`${this.name} answered collect without numbers`);
    return answer.memory;
  }

  /** Keeps the server's event loop busy for `ms` (requests sent meanwhile then arrive in one poll phase). */
  async hold(ms: number): Promise<void> {
    await this.request({ type: 'hold', ms });
  }

  /** Starts a measured window: zeroes the counters, the event-loop histogram and the CPU clock. */
  async reset(): Promise<void> {
    await this.request({ type: 'reset' });
  }

  /** What the server measured since the last reset. */
  async stats(): Promise<ServerStats> {
    const answer = await this.request({ type: 'stats' });
    if (answer.stats === undefined) throw new Error(`${this.name} answered stats without numbers`);
    return answer.stats;
  }

  /** Closes the server and waits for the process to end (killing it if it will not). */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    let giveUp: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.request({ type: 'close' }),
        new Promise<void>((done) => {
          giveUp = setTimeout(done, 10_000);
        }),
      ]);
    } catch {
      // Already gone: nothing to close.
    } finally {
      clearTimeout(giveUp);
    }
    const killTimer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killTimer);
  }

  private request(body: RequestBody): Promise<Extract<ControlMessage, { ok: true }>> {
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${body.type} got no answer within ${CONTROL_TIMEOUT_MS} ms`));
      }, CONTROL_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          if ('ok' in message && message.ok) resolvePromise(message);
          else
            reject(
              new Error(`${this.name}: ${body.type} failed: ${'message' in message ? message.message : '?'}`),
            );
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ ...body, id } as ControlRequest);
    });
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
