import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The Redis servers of the bench share one Redis between runs (and maybe with other users of it): each run
 * writes under a prefix of its own and deletes what it wrote when it closes, never anything else (no
 * FLUSHDB on a Redis that may not be the bench's).
 */
export function runPrefix(server: string): string {
  return `bench:${server}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK, in batches). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
