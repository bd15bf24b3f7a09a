import { createRequire } from 'node:module';
import { InvalidOptionError } from '../../errors.js';

/**
 * What the provider calls on a Redis client: the few methods it uses of ioredis's `Redis` and `Cluster`,
 * typed here so that shard-session's types never import ioredis's (an app without ioredis type-checks).
 * An ioredis 6 `Redis` or `Cluster` fits as it is (a test checks it against ioredis's own declarations).
 * The provider also calls `fcallBuffer`, which ioredis makes for every command but does not declare: it is
 * checked when the provider is built, and reached through {@link FunctionCaller}.
 */
export interface RedisClient {
  /** A hash as an object of Buffers (ioredis defines a field named like `__proto__` as an own property). */
  hgetallBuffer(key: string): Promise<Record<string, Buffer>>;
  zcount(key: string, min: string, max: string): Promise<number>;
  zcard(key: string): Promise<number>;
  del(key: string): Promise<number>;
  /** Any command, for `FUNCTION LOAD`. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** `'ready'` once connected (and, for a Cluster, once it knows the slots). */
  readonly status: string;
  /** True for a Cluster client. */
  readonly isCluster?: boolean;
  /** A Cluster's connections to its masters, each of which must have the functions loaded. */
  nodes?(role: 'master'): readonly { call(command: string, ...args: string[]): Promise<unknown> }[];
  once(event: 'ready', listener: () => void): unknown;
  removeListener(event: 'ready', listener: () => void): unknown;
  /** Closes the connections after the replies in flight (only for a client the provider made). */
  quit(): Promise<unknown>;
  /** Closes them at once and stops reconnecting (after a quit Redis did not answer). */
  disconnect(): void;
}

/** `FCALL` with Buffer replies: ioredis's `fcallBuffer`, present on every client though not in its types. */
export interface FunctionCaller {
  fcallBuffer(fn: string, numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<unknown>;
}

/** Where the provider's own client connects, and how. */
export interface ClientSpec {
  readonly url?: string;
  readonly cluster?: readonly string[];
  readonly clientOptions?: Readonly<Record<string, unknown>>;
  readonly operationTimeoutMs: number;
}

interface IoredisModule {
  Redis: new (url: string, options: object) => RedisClient & FunctionCaller & EventSource;
  Cluster: new (nodes: object[], options: object) => RedisClient & FunctionCaller & EventSource;
}

interface EventSource {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Loads ioredis when a provider is built, not when shard-session is imported: it is an optional peer
 * dependency, needed only by apps that use the 'redis' provider.
 */
function loadIoredis(): IoredisModule {
  try {
    return createRequire(import.meta.url)('ioredis') as IoredisModule;
  } catch (error) {
    throw new InvalidOptionError(
      `the 'redis' provider needs the ioredis package (>= 6): npm install ioredis (${(error as Error).message})`,
    );
  }
}

/** Reconnect after 50, 100, 200, 400, 800, then every 1,000 ms, forever: the provider recovers by itself. */
const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** (attempt - 1), 1000);

/**
 * Makes the provider's own ioredis client. The settings are what bounds every operation's time and memory
 * while Redis is away (the README's "Failures"):
 * - `enableOfflineQueue: false`: while disconnected, a command fails at once instead of waiting in a queue
 *   that would grow without bound;
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command whose connection dropped
 *   fails instead of being sent again (it may have been applied: an incr must not count twice);
 * - `socketTimeout`: a connection that stops answering (a frozen server, a lost network) is dropped and
 *   made again, so it does not hold commands forever;
 * - `enableAutoPipelining`: the commands issued in one event-loop turn (ioredis flushes on setImmediate)
 *   leave as one pipeline per node: one round trip per turn and node.
 * `clientOptions` (a password, TLS, a NAT map) are passed through and may override these.
 */
export function createClient(spec: ClientSpec): RedisClient & FunctionCaller {
  const ioredis = loadIoredis();
  const connection = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: spec.operationTimeoutMs,
    socketTimeout: 2 * spec.operationTimeoutMs,
    retryStrategy: reconnectDelay,
    enableAutoPipelining: true,
  };
  let client: RedisClient & FunctionCaller & EventSource;
  if (spec.cluster) {
    const nodes = spec.cluster.map(parseNode);
    client = new ioredis.Cluster(nodes, {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnectDelay,
      slotsRefreshTimeout: spec.operationTimeoutMs,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      ...spec.clientOptions,
      redisOptions: { ...connection, ...(spec.clientOptions?.redisOptions as object | undefined) },
    });
  } else {
    client = new ioredis.Redis(spec.url ?? 'redis://127.0.0.1:6379', {
      ...connection,
      ...spec.clientOptions,
    });
  }
  // Failures reach the operations that were under way (as StoreUnavailableError); without a listener,
  // ioredis would also print every reconnection attempt.
  client.on('error', () => undefined);
  return client;
}

/** `host:port` (or `redis://host:port`) → ioredis's `{ host, port }`. */
function parseNode(node: string): { host: string; port: number } {
  const url = new URL(node.includes('://') ? node : `redis://${node}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  return { host: url.hostname, port };
}
