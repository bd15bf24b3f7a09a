import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec.js';
import { pack } from '../../src/providers/packed-record.js';
import { SESSIONS_DB } from '../../src/providers/sharded/durable/lmdb-options.js';
import { decodeStoredRecord, encodeStoredRecord } from '../../src/providers/sharded/durable/record-codec.js';
import { createShardedProvider, type ShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { encodeStoredRecord01 } from '../support/record-codec-0.1.js';
import { tempDir } from '../support/temp-dir.js';

// The table now keeps each session as its durable bytes (packed-record.ts). Files written by 0.1.0, whose
// table kept objects and Maps, must load unchanged: same layout 1 and 2, byte for byte.
// Shard workers load the build (dist/): `npm run build` first.

const dirs: { remove(): void }[] = [];
const providers: ShardedProvider[] = [];
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close();
  for (const dir of dirs.splice(0)) dir.remove();
});

const now = Date.now();
const times = {
  createdAt: now - 1000,
  idleTimeoutMs: 60_000,
  idleExpiresAt: now + 59_000,
  absoluteExpiresAt: now + 600_000,
};
const values = () =>
  new Map<string, Uint8Array>([
    ['user', encodeValue({ id: 7, name: 'Zoë' })],
    ['clé', encodeValue(42)],
    ['empty', new Uint8Array(0)],
  ]);
const binding = { userId: 'u-1', handle: 'h'.repeat(22), label: 'phone', boundAt: now - 500 };

describe('records written by 0.1.0', () => {
  it('encode to the same bytes as 0.1.0 wrote, and decode back', () => {
    const unbound = encodeStoredRecord01({ ...times, values: values() });
    expect(Buffer.from(encodeStoredRecord({ packed: pack(times, values()) }))).toEqual(unbound);
    const bound = encodeStoredRecord01({ ...times, values: values(), binding, retimed: true });
    const record = { packed: pack(times, values()), binding, retimed: true as const };
    expect(Buffer.from(encodeStoredRecord(record))).toEqual(bound);
    expect(decodeStoredRecord(Buffer.from(bound))).toEqual(record);
    expect(decodeStoredRecord(Buffer.from(unbound))).toEqual({ packed: pack(times, values()) });
    expect(() => decodeStoredRecord(Buffer.from(unbound).subarray(0, unbound.length - 3))).toThrow(
      /truncated/,
    );
  });

  it("a dir of 0.1.0's files loads: values, bindings and own timeouts come back", async () => {
    const dir = tempDir('shard-old-records-');
    dirs.push(dir);
    const plain = generateSid();
    const bound = generateSid();
    const env = open({ path: dir.path, maxDbs: 4 });
    const db = env.openDB<Buffer, string>({ name: SESSIONS_DB, encoding: 'binary' });
    await db.put(plain, Buffer.from(encodeStoredRecord01({ ...times, values: values() })));
    await db.put(
      bound,
      Buffer.from(encodeStoredRecord01({ ...times, values: values(), binding, retimed: true })),
    );
    await env.close();

    const provider = createShardedProvider({ dir: dir.path, shards: 2, gcIntervalMs: 0 });
    providers.push(provider);
    for (const sid of [plain, bound]) {
      const snapshot = await provider.read(sid);
      expect(snapshot?.createdAt).toBe(times.createdAt);
      expect(snapshot?.absoluteExpiresAt).toBe(times.absoluteExpiresAt);
      const { user, clé, empty } = Object.fromEntries(snapshot?.values ?? []);
      expect([decodeValue(user as Uint8Array), decodeValue(clé as Uint8Array)]).toEqual([
        { id: 7, name: 'Zoë' },
        42,
      ]);
      expect(empty?.byteLength).toBe(0);
    }
    const boundSnapshot = await provider.read(bound);
    expect(boundSnapshot?.binding).toEqual({ userId: 'u-1', handle: binding.handle, label: 'phone' });
    expect(boundSnapshot?.idleTimeoutMs).toBe(60_000);
    expect((await provider.read(plain))?.binding).toBeUndefined();
    expect((await provider.sessionsOf('u-1')).map((s) => s.handle)).toEqual([binding.handle]);
  });
});
