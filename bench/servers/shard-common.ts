/**
 * What the shard-session servers (node:http and Fastify) share: a manager configured like the peers (signed
 * cookie, the same timeouts, failures reported out of band counted), its prefill and its batching counters.
 */
import {
  createIdSigner,
  createSessionManager,
  encodeValue,
  generateSid,
  type ProviderChoice,
  type SessionManager,
} from '../../src/index.js';
import {
  ABSOLUTE_TIMEOUT_MS,
  BENCH_SECRET,
  type BenchServer,
  IDLE_TIMEOUT_MS,
  inChunks,
  type RouteCounters,
  sampleIndices,
} from './protocol.js';

export type BenchData = { user: string; count: number; last: number };

/** Which shard-session provider a server uses. */
export type ShardSetup =
  | { provider: 'memory' }
  | {
      provider: 'sharded';
      shards: number;
      /** Durable shards: the server keeps its sessions in LMDB in a temp dir of its own (removed at close). */
      durable?: boolean;
      /** The dir, filled in by the server when it starts. */
      dir?: string;
    }
  | { provider: 'postgres'; connectionString: string; schemaName: string }
  | { provider: 'redis'; url: string; prefix: string };

/** The provider and its options, as the manager takes them. */
function providerChoice(setup: ShardSetup): ProviderChoice {
  switch (setup.provider) {
    case 'memory':
      return { provider: 'memory' };
    case 'sharded':
      return {
        provider: 'sharded',
        providerOptions: { shards: setup.shards, ...(setup.dir && { dir: setup.dir }) },
      };
    case 'redis':
      return { provider: 'redis', providerOptions: { url: setup.url, prefix: setup.prefix } };
    case 'postgres':
      return {
        provider: 'postgres',
        providerOptions: { connectionString: setup.connectionString, schemaName: setup.schemaName },
      };
  }
}

export const SHARD_COOKIE = 'sid';

/**
 * A manager as an app would configure it, on the same terms as the peers: the id signed with the bench's
 * secret (both peers verify an HMAC on every request), and every commit failure reported through `onError`
 * (nobody awaits the commit sent as the headers go out) counted as an error.
 */
export function benchManager(setup: ShardSetup, counters: RouteCounters): SessionManager<BenchData> {
  return createSessionManager<BenchData>({
    ...providerChoice(setup),
    cookieName: SHARD_COOKIE,
    idleTimeout: IDLE_TIMEOUT_MS,
    absoluteTimeout: ABSOLUTE_TIMEOUT_MS,
    secrets: BENCH_SECRET,
    onError: () => {
      counters.sessionErrors += 1;
    },
  });
}

/** The parts of a BenchServer that come from the manager: the prefill and the batching counters. */
export function managerParts(
  manager: SessionManager<BenchData>,
  external = false,
): Pick<BenchServer, 'prefill' | 'storeCounters'> {
  // An external store (Redis) takes the prefill 2,000 in flight at a time: 20,000 issued in one turn take
  // Redis longer than the provider's operation timeout (1 s) on this 2-core machine under load.
  const chunk = external ? 2_000 : 20_000;
  const signer = createIdSigner(BENCH_SECRET);
  return {
    prefill: async (count, sample) => {
      const picked = sampleIndices(count, sample);
      const cookies: string[] = [];
      const initial = { set: [['user', encodeValue('u')] as const, ['count', encodeValue(0)] as const] };
      // Many in flight at once, so the sharded provider batches them as it would under load.
      await inChunks(count, chunk, (i) => {
        const sid = generateSid();
        if (picked.has(i)) cookies.push(`${SHARD_COOKIE}=${encodeURIComponent(signer.sign(sid))}`);
        return manager.provider.init(sid, manager.policy, initial);
      });
      return cookies;
    },
    storeCounters: async () => {
      const shards = await manager.stats();
      return {
        ops: shards.reduce((sum, shard) => sum + shard.ops, 0),
        batches: shards.reduce((sum, shard) => sum + shard.batches, 0),
        // A stats query is a frame to every shard; the 'redis' provider answers it from Redis without one.
        queryFrames: external ? 0 : shards.length,
      };
    },
  };
}
