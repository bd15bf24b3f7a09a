/**
 * shard-session: server-side sessions for Node.js, sharded across worker threads.
 * @packageDocumentation
 */

export { decodeValue, encodeValue } from './codec.js';
export * from './errors.js';
export type {
  ProviderFactory,
  ProviderOptions,
  SessionDelta,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
  StoreLimits,
} from './providers/provider.js';
export { createProvider, register, registeredProviders } from './registry.js';
export { generateSid, isValidSid, SID_LENGTH } from './sid.js';

import './providers/builtin.js';

export { parseDuration } from './duration.js';
export type { HeaderSink } from './http/before-headers.js';
export { isOverloaded, RETRY_AFTER_SECONDS, sendSessionError } from './http/errors.js';
export {
  createExpressMiddleware,
  getSession,
  type RequestWithSession,
  type SessionMiddleware,
} from './http/express.js';
export {
  type FastifySessionData,
  type FastifySessionPluginOptions,
  fastifySessionPlugin,
} from './http/fastify.js';
export { type SessionHandler, withSession } from './http/node.js';
export {
  createSessionManager,
  type SessionManager,
  type SessionManagerOptions,
  TOUCH_FRACTION,
  type TransportName,
} from './manager.js';
export { createMemoryProvider, MemoryProvider } from './providers/memory.js';
export {
  createShardedProvider,
  DEFAULT_MAX_QUEUED_OPS,
  defaultShardCount,
  ShardedProvider,
  type ShardedProviderOptions,
} from './providers/sharded/provider.js';
export {
  type NumericKey,
  type RegenerateOptions,
  Session,
  type SessionData,
  type SessionKey,
} from './session.js';
export type { SessionCookieOptions } from './transport/cookie.js';
export { createIdSigner, type IdSigner } from './transport/signing.js';
export { addSessionParam, rewriteLinks } from './transport/url.js';
