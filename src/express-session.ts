/**
 * `shard-session/express-session`: {@link ShardSessionStore}, a store for express-session (and
 * @fastify/session) over shard-session's providers. Its own subpath because it extends express-session's
 * `Store` class: express-session (an optional peer) is loaded only by an app that imports this.
 * @packageDocumentation
 */

export { ShardSessionStore } from './http/express-session/store.js';
export type {
  ShardSessionStoreBaseOptions,
  ShardSessionStoreOptions,
} from './http/express-session/store-options.js';
