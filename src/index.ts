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

export { createMemoryProvider, MemoryProvider } from './providers/memory.js';
export {
  createShardedProvider,
  DEFAULT_MAX_QUEUED_OPS,
  defaultShardCount,
  ShardedProvider,
  type ShardedProviderOptions,
} from './providers/sharded/provider.js';
