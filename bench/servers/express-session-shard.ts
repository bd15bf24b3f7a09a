import { ShardSessionStore } from '../../src/express-session.js';
import { expressSessionServer } from './express-session.js';

/**
 * The `express-session` server's app with its store switched to shard-session's ShardSessionStore in one line,
 * as an existing express-session app would do it: the 'sharded' provider with its default shard count, every
 * other option at its default. The sessions then live in the shard threads, off the main thread's heap.
 */
export const expressSessionShardServer = expressSessionServer(() => {
  const store = new ShardSessionStore();
  return { store, close: () => store.close() };
});
