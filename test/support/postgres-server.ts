import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = process.env.SHARD_SESSION_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** True when this machine can start a PostgreSQL server of its own (initdb and pg_ctl are installed). */
export const canStartPostgres = existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A throwaway PostgreSQL server in a temp directory, on a port of its own, for tests that stop, crash or
 * freeze the database without disturbing anyone else's. initdb refuses to run as root: as root, the server
 * runs as the `postgres` user.
 */
export class ThrowawayPostgres {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly #asRoot = process.getuid?.() === 0;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** Creates the cluster (trust auth, UTF8) and starts it. */
  static async start(): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'shard-session-pg-'));
    const server = new ThrowawayPostgres(dir, await freePort());
    if (server.#asRoot) chownSync(dir, Number(server.#id('-u')), Number(server.#id('-g')));
    await server.#as(join(BIN, 'initdb'), [
      '-D',
      server.#data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await server.startAgain();
    return server;
  }

  get #data(): string {
    return join(this.dir, 'data');
  }

  /** The postmaster's pid (the first line of postmaster.pid), or undefined when it is not running. */
  get pid(): number | undefined {
    const file = join(this.#data, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    return Number(readFileSync(file, 'utf8').split('\n')[0]);
  }

  /** Starts the server (again), waiting until it accepts connections. */
  async startAgain(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c max_connections=40 -c shared_buffers=16MB`;
    await this.#as(join(BIN, 'pg_ctl'), [
      '-D',
      this.#data,
      '-o',
      options,
      '-l',
      join(this.dir, 'log'),
      '-w',
      'start',
    ]);
  }

  /** A clean shutdown: connections are ended (57P01), the server checkpoints and exits. */
  async stop(): Promise<void> {
    await this.#as(join(BIN, 'pg_ctl'), ['-D', this.#data, '-m', 'fast', '-w', 'stop']);
  }

  /**
   * A crash: SIGKILL to the postmaster and every process it started (frozen first, so none is restarted in
   * between); resolves once they are all gone. The next start runs WAL recovery.
   */
  async crash(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    tryKill(pid, 'SIGSTOP');
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
    const pids = [
      ...children
        .split('\n')
        .map(Number)
        .filter((n) => n > 0),
      pid,
    ];
    for (const each of pids) tryKill(each, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (pids.some(isAlive) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Stops the server for good and removes its files. */
  async destroy(): Promise<void> {
    if (this.pid !== undefined) {
      await this.#as(join(BIN, 'pg_ctl'), ['-D', this.#data, '-m', 'immediate', '-w', 'stop']).catch(
        () => {},
      );
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #id(flag: '-u' | '-g'): string {
    return spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim();
  }

  async #as(command: string, args: string[]): Promise<void> {
    if (this.#asRoot) await run('runuser', ['-u', 'postgres', '--', command, ...args]);
    else await run(command, args);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
