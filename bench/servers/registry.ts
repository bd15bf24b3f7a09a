import { defaultShardCount } from '../../src/index.js';
import type { ServerFactory } from './protocol.js';

/** The database both PostgreSQL servers use, so they are measured against the same server. */
export const POSTGRES_SERVICE = {
  env: 'DATABASE_URL',
  defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
} as const;

/** Which group a server belongs to: the report colours and orders its rows by it. */
export type ServerFamily = 'bound' | 'classic' | 'peer' | 'shard';

/** One bench server: a name the CLI and the report use, what it is, and how to build it. */
export interface ServerEntry {
  readonly name: string;
  /** One line for the report: what runs, configured how. */
  readonly label: string;
  readonly family: ServerFamily;
  /** Loads the server's module (lazily, so a child process only loads the server it runs). */
  readonly load: () => Promise<ServerFactory>;
  /**
   * An external service the server needs (Redis, PostgreSQL): its URL is read from `env`, else `defaultUrl`.
   * When nothing answers there, the run skips the server and says so, instead of failing it.
   */
  readonly service?: { readonly env: string; readonly defaultUrl: string };
  /** False for the servers without a store (plain): the population table shows no fill for them. */
  readonly keepsSessions?: false;
}

/**
 * Every server of the suite, in report order. Adding one is one entry here plus its module in this folder
 * (a `ServerFactory`: build the server, answer the shared routes, prefill through the store's own API).
 */
export const SERVERS = [
  {
    name: 'plain',
    label: 'node:http, no sessions: the upper bound of node:http here',
    family: 'bound',
    keepsSessions: false,
    load: async () => (await import('./plain.js')).createPlainServer,
  },
  {
    name: 'plain-fastify',
    label: 'Fastify 5, no sessions: the upper bound of a Fastify app here',
    family: 'bound',
    keepsSessions: false,
    load: async () => (await import('./plain-fastify.js')).createPlainFastifyServer,
  },
  {
    name: 'map',
    label: 'a hand-written Map store on node:http: no signing, no limits, no GC tick',
    family: 'bound',
    load: async () => (await import('./map.js')).createMapServer,
  },
  {
    name: 'classic',
    label: 'the classic design (one global mutex), its provider answering on a later turn',
    family: 'classic',
    load: async () => (await import('./classic.js')).classicServer({ provider: 'async' }),
  },
  {
    name: 'classic-sync',
    label: 'the classic design (one global mutex), its provider answering at once, as the Go map does',
    family: 'classic',
    load: async () => (await import('./classic.js')).classicServer({ provider: 'sync' }),
  },
  {
    name: 'express-session',
    label: 'express-session 1.x with its default MemoryStore (documented as not for production)',
    family: 'peer',
    load: async () => (await import('./express-session.js')).expressSessionServer('MemoryStore'),
  },
  {
    name: 'memorystore',
    label: 'express-session 1.x with the memorystore package (LRU, pruned every 24 h)',
    family: 'peer',
    load: async () => (await import('./express-session.js')).expressSessionServer('memorystore'),
  },
  {
    name: 'connect-redis',
    label:
      'express-session 1.x with connect-redis 9 (node-redis 5): the session as JSON, rewritten by every save',
    family: 'peer',
    service: { env: 'REDIS_URL', defaultUrl: 'redis://127.0.0.1:6379' },
    load: async () =>
      (await import('./express-session.js')).expressSessionServer(
        (await import('./connect-redis.js')).connectRedisStore,
      ),
  },
  {
    name: 'express-session-shard',
    label:
      "express-session 1.x with shard-session's ShardSessionStore ('sharded' provider, default shard count)",
    family: 'peer',
    load: async () => (await import('./express-session-shard.js')).expressSessionShardServer,
  },
  {
    name: 'express-session-pg',
    label: 'express-session 1.x with connect-pg-simple (a pg.Pool of 10), on the same PostgreSQL',
    family: 'peer',
    service: POSTGRES_SERVICE,
    load: async () => (await import('./express-session.js')).expressSessionServer('connect-pg-simple'),
  },
  {
    name: 'fastify-session',
    label: '@fastify/session 11 with @fastify/cookie and its MemoryStore, on Fastify 5',
    family: 'peer',
    load: async () => (await import('./fastify-session.js')).createFastifySessionServer,
  },
  {
    name: 'shard-memory',
    label: "shard-session, 'memory' provider (sessions on the main thread)",
    family: 'shard',
    load: async () => (await import('./shard.js')).shardServer({ provider: 'memory' }),
  },
  {
    name: 'shard-sharded-1',
    label: "shard-session, 'sharded' provider, 1 shard thread",
    family: 'shard',
    load: async () => (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 1 }),
  },
  {
    name: 'shard-sharded-2',
    label: "shard-session, 'sharded' provider, 2 shard threads",
    family: 'shard',
    load: async () => (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 2 }),
  },
  {
    name: 'shard-sharded-4',
    label: "shard-session, 'sharded' provider, 4 shard threads",
    family: 'shard',
    load: async () => (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 4 }),
  },
  {
    name: 'shard-sharded-1-save',
    label: 'shard-session, 1 shard, every route awaits session.save(): answers after the store acknowledged',
    family: 'shard',
    load: async () =>
      (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 1, awaitSave: true }),
  },
  {
    name: 'shard-durable-1',
    label: "shard-session, 'sharded' provider with dir (LMDB, no fsync), 1 shard thread",
    family: 'shard',
    load: async () =>
      (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 1, durable: true }),
  },
  {
    name: 'shard-durable-2',
    label: "shard-session, 'sharded' provider with dir (LMDB, no fsync), 2 shard threads",
    family: 'shard',
    load: async () =>
      (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 2, durable: true }),
  },
  {
    name: 'shard-postgres',
    label:
      "shard-session, 'postgres' provider (2 batches at once, its own pool of 4), on the same PostgreSQL",
    family: 'shard',
    service: POSTGRES_SERVICE,
    load: async () => (await import('./shard-postgres.js')).createShardPostgresServer,
  },
  {
    name: 'shard-redis',
    label: "shard-session, 'redis' provider (ioredis 6, one pipeline per event-loop turn)",
    family: 'shard',
    service: { env: 'REDIS_URL', defaultUrl: 'redis://127.0.0.1:6379' },
    load: async () => (await import('./shard-redis.js')).createShardRedisServer,
  },
  {
    name: 'shard-fastify',
    label: "shard-session's fastifySessionPlugin on Fastify 5, 'sharded' provider, 1 shard thread",
    family: 'shard',
    load: async () => (await import('./shard-fastify.js')).createShardFastifyServer,
  },
] as const satisfies readonly ServerEntry[];

export type ServerName = (typeof SERVERS)[number]['name'];
export const SERVER_NAMES: readonly ServerName[] = SERVERS.map((entry) => entry.name);

/** How the report describes a server. */
export interface ServerDescription {
  readonly name: string;
  readonly label: string;
  readonly family: ServerFamily;
  /** False for servers without a store. */
  readonly keepsSessions: boolean;
}

export function describeServer(entry: ServerEntry): ServerDescription {
  const { name, label, family, keepsSessions } = entry;
  return { name, label, family, keepsSessions: keepsSessions !== false };
}

/** The entry named `name`. */
export function serverEntry(name: string): ServerEntry {
  const entry = (SERVERS as readonly ServerEntry[]).find((e) => e.name === name);
  if (entry === undefined) throw new Error(`unknown bench server: ${name}`);
  return entry;
}

/**
 * The 'sharded' server the report leads with and checks the targets on: the library's default shard count
 * (every core but one), chosen before anything runs, never the best of the shard counts after the fact.
 * The other shard counts are extra rows.
 */
export function reportedShardedServer(): string {
  return `shard-sharded-${defaultShardCount()}`;
}
