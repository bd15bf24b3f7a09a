/**
 * shard-session: server-side sessions for Node.js, sharded across worker threads.
 *
 * The adapters that belong to a framework live at their own subpaths, so this entry (and its types) needs no
 * peer: `shard-session/express`, `shard-session/fastify`, `shard-session/express-session`.
 * @packageDocumentation
 */

export { decodeValue, encodeValue } from './codec.js';
export { parseDuration } from './duration.js';
export * from './errors.js';
export { isRetryable, sendSessionError } from './http/errors.js';
export { type SessionHandler, withSession } from './http/node.js';
export { createSessionManager, type ManagerStats, type SessionManager } from './manager.js';
export {
  type ProviderChoice,
  type SessionManagerBaseOptions,
  type SessionManagerOptions,
  TOUCH_FRACTION,
} from './options.js';
export {
  createMemoryProvider,
  MemoryProvider,
  type MemoryProviderOptions,
} from './providers/memory.js';
export type {
  PostgresPool,
  PostgresPoolClient,
  PostgresProviderOptions,
  PostgresQuery,
} from './providers/postgres/options.js';
export { createPostgresProvider, PostgresProvider } from './providers/postgres/provider.js';
export { type PostgresSchemaOptions, postgresSchemaSql } from './providers/postgres/schema-sql.js';
export type {
  ProviderFactory,
  ProviderOptions,
  SessionBinding,
  SessionDelta,
  SessionEvent,
  SessionLimits,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
  UserSessionInfo,
} from './providers/provider.js';
export type { RedisClient } from './providers/redis/client.js';
export {
  DEFAULT_OPERATION_TIMEOUT_MS,
  DEFAULT_PREFIX,
  type RedisProviderOptions,
} from './providers/redis/options.js';
export { createRedisProvider, RedisProvider } from './providers/redis/provider.js';
export {
  createShardedProvider,
  DEFAULT_MAX_QUEUED_OPS,
  defaultShardCount,
  ShardedProvider,
  type ShardedProviderOptions,
} from './providers/sharded/provider.js';
export {
  createProvider,
  type ProviderName,
  type ProviderOptionsByName,
  register,
  registeredProviders,
} from './registry.js';
export type {
  NumericKey,
  RegenerateOptions,
  Session,
  SessionData,
  SessionKey,
  SessionTimeouts,
  SetUserOptions,
} from './session.js';
export { generateSid, isValidSid, SID_LENGTH } from './sid.js';
export type { HeaderSink } from './transport/before-headers.js';
export type { SessionCookieOptions } from './transport/cookie.js';
export type { TransportName } from './transport/id-transport.js';
export { createIdSigner, type IdSigner } from './transport/signing.js';
export { addSessionParam, rewriteLinks } from './transport/url.js';
