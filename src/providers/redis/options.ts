import { InvalidOptionError } from '../../errors.js';
import type { ProviderOptions } from '../provider.js';
import { integerOption, type ResolvedProviderOptions, resolveProviderOptions } from '../provider-options.js';
import type { FunctionCaller, RedisClient } from './client.js';
import { SLOT_GROUPS } from './key-layout.js';

/** Options of the 'redis' provider. Give at most one of `url`, `cluster` and `client`. */
export interface RedisProviderOptions extends ProviderOptions {
  /** The server, as `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). Default `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /** A Redis Cluster: some of its nodes as `host:port`; the client discovers the others. */
  readonly cluster?: readonly string[];
  /**
   * A client the app already has: an ioredis 6 `Redis` or `Cluster` (anything with the methods of
   * {@link RedisClient}). The provider does not close it. Give it `enableAutoPipelining: true` for one
   * round trip per event-loop turn, and `enableOfflineQueue: false` for prompt failures while Redis is away.
   */
  readonly client?: RedisClient;
  /** ioredis options for the provider's own client (a password, `tls`, a Cluster's `natMap`, …). */
  readonly clientOptions?: Readonly<Record<string, unknown>>;
  /** Prefix of every key the provider writes (without `{` or `}`). Default `'sess:'`. */
  readonly prefix?: string;
  /**
   * Every operation resolves, or rejects `StoreUnavailableError`, within this many ms (a rename across slot
   * groups on Cluster: three times this). Default 1,000.
   */
  readonly operationTimeoutMs?: number;
  /** Redis commands queued or unanswered; past it, calls reject `OverloadedError`. Default 65,536. */
  readonly maxQueuedOps?: number;
}

export const DEFAULT_PREFIX = 'sess:';
export const DEFAULT_OPERATION_TIMEOUT_MS = 1000;
export const DEFAULT_MAX_QUEUED_OPS = 65_536;

const OWN_OPTION_NAMES = [
  'url',
  'cluster',
  'client',
  'clientOptions',
  'prefix',
  'operationTimeoutMs',
  'maxQueuedOps',
];

/** The options checked, with every default filled in. */
export interface ResolvedRedisOptions extends ResolvedProviderOptions {
  readonly url: string | undefined;
  readonly cluster: readonly string[] | undefined;
  readonly client: (RedisClient & FunctionCaller) | undefined;
  readonly clientOptions: Readonly<Record<string, unknown>> | undefined;
  readonly prefix: string;
  readonly operationTimeoutMs: number;
  readonly maxQueuedOps: number;
  /** Sessions one slot group may hold (`maxSessions` / 64, rounded up); 0 when `maxSessions` was not given. */
  readonly maxSessionsPerGroup: number;
}

/** Checks the 'redis' provider's options (an unknown or bad one throws `InvalidOptionError` naming it). */
export function resolveRedisOptions(options: RedisProviderOptions = {}): ResolvedRedisOptions {
  const common = resolveProviderOptions('redis', options, OWN_OPTION_NAMES);
  const { url, cluster, client, clientOptions } = options;
  const given = [url, cluster, client].filter((option) => option !== undefined).length;
  if (given > 1) throw new InvalidOptionError("give the 'redis' provider one of url, cluster and client");
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\/./.test(url))) {
    throw new InvalidOptionError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  if (
    cluster !== undefined &&
    (!Array.isArray(cluster) ||
      cluster.length === 0 ||
      cluster.some((node) => typeof node !== 'string' || !/^(rediss?:\/\/)?[^\s/]+:\d+$/.test(node)))
  ) {
    throw new InvalidOptionError('cluster must be a non-empty array of "host:port" strings');
  }
  const caller = client as Partial<FunctionCaller> | null | undefined;
  if (client !== undefined && (caller === null || typeof caller?.fcallBuffer !== 'function')) {
    throw new InvalidOptionError(
      'client must be an ioredis 6 Redis or Cluster (it has no fcallBuffer method)',
    );
  }
  if (clientOptions !== undefined && (clientOptions === null || typeof clientOptions !== 'object')) {
    throw new InvalidOptionError('clientOptions must be an object of ioredis options');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length > 100 || /[{}]/.test(prefix)) {
    throw new InvalidOptionError(
      'prefix must be a string of at most 100 characters without { or } (they would change the hash tag)',
    );
  }
  return {
    ...common,
    url,
    cluster,
    client: client as (RedisClient & FunctionCaller) | undefined,
    clientOptions,
    prefix,
    operationTimeoutMs: integerOption(
      'operationTimeoutMs',
      options.operationTimeoutMs,
      DEFAULT_OPERATION_TIMEOUT_MS,
      1,
      600_000,
    ),
    maxQueuedOps: integerOption('maxQueuedOps', options.maxQueuedOps, DEFAULT_MAX_QUEUED_OPS, 1),
    // Redis's own bound is maxmemory; a default of 4 M sessions would silently evict a large site's sessions.
    maxSessionsPerGroup:
      options.maxSessions === undefined ? 0 : Math.ceil(common.limits.maxSessions / SLOT_GROUPS),
  };
}
