/**
 * Which shard owns a session id: FNV-1a over the id's characters, modulo the shard count. Ids are random,
 * so any cheap hash spreads them evenly; FNV-1a also spreads ids a client made up, so crafted ids cannot
 * pile their lookups onto one shard.
 */
export function shardOf(sid: string, shards: number): number {
  if (shards === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < sid.length; i++) {
    hash ^= sid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
