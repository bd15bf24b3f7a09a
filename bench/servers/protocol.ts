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

/**
 * The one secret every server that signs its cookie uses (HMAC-SHA256 over the id, verified on every request).
 * 32+ characters: @fastify/session refuses shorter ones.
 */
export const BENCH_SECRET = 'bench-secret-not-for-production-32-chars-at-least';

/** Numbers the routes keep for the harness. Mutated in place by the server, reset between phases. */
export interface RouteCounters {
  /**
   * Failures the session layer reported out of band (shard-session's `onError`: a commit sent as the headers
   * went out that the store then refused). The client saw a 2xx for those requests, so the harness adds them
   * to the errors. Never reset: the child reports differences.
   */
  sessionErrors: number;
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
  /**
   * Operations applied by the store and frames (batches) they came in, so far: shard-session only.
   * `queryFrames`: the frames this query itself added to `batches` (a stats request is a frame to each shard,
   * counted before the shard answers), which the child takes off.
   */
  storeCounters?(): Promise<{ ops: number; batches: number; queryFrames: number }>;
  close(): Promise<void>;
}

/** What a server is built with. */
export interface ServerContext {
  /** Shared with the child's IPC handler, which reports them. */
  readonly counters: RouteCounters;
  /** The URL of the external service the server's registry entry names (Redis, PostgreSQL), if any. */
  readonly serviceUrl?: string;
}

/** Builds one server. */
export type ServerFactory = (context: ServerContext) => Promise<BenchServer>;

/** Parent → child. Every request carries an id; the child answers with the same id. */
export type ControlRequest =
  | { readonly id: number; readonly type: 'prefill'; readonly count: number; readonly sample: number }
  | { readonly id: number; readonly type: 'reset' }
  | { readonly id: number; readonly type: 'stats' }
  | { readonly id: number; readonly type: 'collect' }
  | { readonly id: number; readonly type: 'hold'; readonly ms: number }
  | { readonly id: number; readonly type: 'close' };

/** What the child measured since the last `reset` (`incrAcks`: since it started; memory: now). */
export interface ServerStats {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** p99 of the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay), in ms. */
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** CPU time of the whole server process (main thread and workers) per wall time, in % of one core. */
  readonly cpuPercent: number;
  /** CPU time of the whole server process (all threads), user + system, in µs. */
  readonly cpuMicros: number;
  readonly incrAcks: number;
  /** Failures the session layer reported out of band since the last reset (see RouteCounters). */
  readonly sessionErrors: number;
  /** shard-session: store operations per frame sent to a shard (per call for the memory provider). */
  readonly opsPerFrame?: number;
}

/** Child → parent. */
export type ControlMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly id: number;
      readonly ok: true;
      readonly cookies?: string[];
      readonly stats?: ServerStats;
      /** After `collect`: the process's memory once the main thread's garbage was collected. */
      readonly memory?: { readonly rssBytes: number; readonly heapUsedBytes: number };
    }
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
