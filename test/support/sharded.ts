import { afterEach } from 'vitest';
import { createShardedProvider, type ShardedProvider } from '../../src/providers/sharded/provider.js';
import { shardOf } from '../../src/providers/sharded/shard-hash.js';
import { generateSid } from '../../src/sid.js';

/** A fresh id that the given shard of `shards` owns. */
export function sidOnShard(shard: number, shards: number): string {
  for (;;) {
    const sid = generateSid();
    if (shardOf(sid, shards) === shard) return sid;
  }
}

/**
 * `promise`, or a failure naming `what` after `ms`: a test of "nothing hangs" must fail at its own short
 * deadline, not at the suite's 30-second timeout.
 */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * For a test file: makes 'sharded' providers (1 shard, no GC tick, unless `options` say otherwise) and closes
 * every one after each test (registers its own afterEach: call it once, at the top of the file).
 */
export function shardedProvidersPerTest(): (
  options?: Parameters<typeof createShardedProvider>[0],
) => ShardedProvider {
  const open: ShardedProvider[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });
  return (options = {}) => {
    const provider = createShardedProvider({ shards: 1, gcIntervalMs: 0, ...options });
    open.push(provider);
    return provider;
  };
}

/**
 * For a durable test file: the 'sharded' providers and temp dirs its tests open, closed and removed after each
 * test, providers first (a shard still writing must not find its files gone). Registers its own afterEach:
 * call it once, at the top of the file.
 */
export function durableTeardown(): { providers: ShardedProvider[]; dirs: { remove(): void }[] } {
  const providers: ShardedProvider[] = [];
  const dirs: { remove(): void }[] = [];
  afterEach(async () => {
    for (const provider of providers.splice(0)) await provider.close();
    for (const dir of dirs.splice(0)) dir.remove();
  });
  return { providers, dirs };
}
