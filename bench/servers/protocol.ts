/**
 * What every bench server shares: the routes the scenarios call, the counters the harness reads, and the
 * messages that travel between the harness (parent) and the server's child process over Node's IPC channel.
 */

/** The routes every server answers, with the same meaning everywhere. */
export type Route = 'new' | 'read' | 'write' | 'incr' | 'count';

/**
 * - `new`: start a session and set `user` (with no cookie this creates one: a login).
 * - `read`: read `user` and `count`.
 * - `write`: read `user` and `count`, set `last`.
 * - `incr`: add 1 to `count` and answer the new number.
 * - `count`: answer `count` (the hot-session check).
 */
export const ROUTES: readonly Route[] = ['new', 'read', 'write', 'incr', 'count'];

/** The route a request path names, or null. Only the path's first segment counts; a query is ignored. */
export function routeOf(url: string | undefined): Route | null {
  if (url === undefined) return null;
  const end = url.indexOf('?');
  const path = end === -1 ? url.slice(1) : url.slice(1, end);
  return (ROUTES as readonly string[]).includes(path) ? (path as Route) : null;
}

/** The session timeouts every server is configured with, so stores expire (and size) sessions alike. */
export const IDLE_TIMEOUT_MS = 30 * 60_000;
export const ABSOLUTE_TIMEOUT_MS = 24 * 60 * 60_000;

/** Numbers the routes keep for the harness. Mutated in place by the server, reset between phases. */
export interface RouteCounters {
  /**
   * `incr` answers the server sent with a new number since it started: the increments it told a client
   * succeeded. Counted at the server rather than the client because requests in flight when the load stops
   * may still be applied. Never reset: the hot session's counter also starts at 0 with the server.
   */
  incrAcks: number;
}

/** A bench server, listening on 127.0.0.1, as its module builds it. */
export interface BenchServer {
  readonly port: number;
  /**
   * Creates `count` sessions (each with `user` and `count: 0`) through the store's own API, in-process, and
   * answers the `Cookie` header values of `sample` of them, spread evenly over the population.
   */
  prefill(count: number, sample: number): Promise<string[]>;
  /** Operations applied by the store and frames (batches) they came in, so far: shard-session only. */
  storeCounters?(): Promise<{ ops: number; batches: number }>;
  close(): Promise<void>;
}

/** Builds one server. The counters object is shared with the child's IPC handler. */
export type ServerFactory = (counters: RouteCounters) => Promise<BenchServer>;

/** The names of the servers, as the issue and the report spell them. */
export const SERVER_NAMES = [
  'plain',
  'map',
  'classic',
  'express-session',
  'fastify-session',
  'shard-memory',
  'shard-sharded-1',
  'shard-sharded-2',
  'shard-sharded-4',
] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** Parent → child. Every request carries an id; the child answers with the same id. */
export type ControlRequest =
  | { readonly id: number; readonly type: 'prefill'; readonly count: number; readonly sample: number }
  | { readonly id: number; readonly type: 'reset' }
  | { readonly id: number; readonly type: 'stats' }
  | { readonly id: number; readonly type: 'close' };

/** What the child measured since the last `reset` (`incrAcks`: since it started). */
export interface ServerStats {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** p99 of the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay), in ms. */
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** CPU time of the whole server process (main thread and workers) per wall time, in % of one core. */
  readonly cpuPercent: number;
  readonly incrAcks: number;
  /** shard-session: store operations per frame sent to a shard (per call for the memory provider). */
  readonly opsPerFrame?: number;
}

/** Child → parent. */
export type ControlMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly id: number; readonly ok: true; readonly cookies?: string[]; readonly stats?: ServerStats }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** Indices of `sample` items spread evenly over `count`. */
export function sampleIndices(count: number, sample: number): Set<number> {
  const picked = new Set<number>();
  const take = Math.min(count, sample);
  if (take <= 0) return picked;
  const step = count / take;
  for (let i = 0; i < take; i++) picked.add(Math.floor(i * step));
  return picked;
}

/** Runs `create(i)` for i in [0, count) with at most `inFlight` promises pending, to keep memory flat. */
export async function inChunks(
  count: number,
  inFlight: number,
  create: (i: number) => Promise<unknown>,
): Promise<void> {
  for (let start = 0; start < count; start += inFlight) {
    const end = Math.min(count, start + inFlight);
    const pending: Promise<unknown>[] = [];
    for (let i = start; i < end; i++) pending.push(create(i));
    await Promise.all(pending);
  }
}
