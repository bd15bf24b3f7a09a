import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec.js';
import { bodyStart, pack } from '../../src/providers/packed-record.js';
import { SESSIONS_DB } from '../../src/providers/sharded/durable/lmdb-options.js';
import {
  decodeStoredRecord,
  encodeStoredRecord,
  storedExpiresAt,
} from '../../src/providers/sharded/durable/record-codec.js';
import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { encodeStoredRecord01 } from '../support/record-codec-0.1.js';
import { durableTeardown } from '../support/sharded.js';
import { tempDir } from '../support/temp-dir.js';

// The table keeps each session as its durable bytes (packed-record.ts, layout 3). Files written by 0.1.0 (whose
// table kept objects and Maps) and by the table's first packed layout use layouts 1 and 2: they must load.
// Shard workers load the build (dist/): `npm run build` first.

const { providers, dirs } = durableTeardown();

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
  it('decode into the current layout; the current codec writes layouts 3 and 4 and reads them back', () => {
    const unbound = Buffer.from(encodeStoredRecord01({ ...times, values: values() }));
    const bound = Buffer.from(encodeStoredRecord01({ ...times, values: values(), binding, retimed: true }));
    const record = { packed: pack(times, values()), binding, retimed: true as const };
    expect(decodeStoredRecord(unbound)).toEqual({ packed: pack(times, values()) });
    expect(decodeStoredRecord(bound)).toEqual(record);
    expect([storedExpiresAt(unbound), storedExpiresAt(bound)]).toEqual([
      times.idleExpiresAt,
      times.idleExpiresAt,
    ]);
    // Layout 3 is the packed record's bytes; layout 4 puts the extras between its head and its keys.
    const current = Buffer.from(encodeStoredRecord({ packed: record.packed }));
    expect(current).toEqual(Buffer.from(record.packed, 'latin1'));
    const withExtras = Buffer.from(encodeStoredRecord(record));
    expect(withExtras[0]).toBe(4);
    expect(withExtras.length).toBe(current.length + 2 + withExtras.readUInt16LE(bodyStart(record.packed)));
    expect(decodeStoredRecord(withExtras)).toEqual(record);
    expect(decodeStoredRecord(current)).toEqual({ packed: record.packed });
    expect([storedExpiresAt(current), storedExpiresAt(withExtras)]).toEqual([
      times.idleExpiresAt,
      times.idleExpiresAt,
    ]);
  });

  it('a record cut inside its last key or value is refused as truncated, in every layout', () => {
    const emptyLast = new Map([...values()].filter(([key]) => key !== 'empty'));
    const layouts = [
      Buffer.from(encodeStoredRecord01({ ...times, values: emptyLast })),
      Buffer.from(encodeStoredRecord01({ ...times, values: emptyLast, binding })),
      Buffer.from(encodeStoredRecord({ packed: pack(times, emptyLast) })),
      Buffer.from(encodeStoredRecord({ packed: pack(times, emptyLast), binding })),
    ];
    // The last entry is 'clé' and 42: 2 + 4 (or 1 + 4 + 1 in layout 3) bytes of key, then the number's byte.
    for (const [i, bytes] of layouts.entries()) {
      const lastEntry = bytes.length - (i < 2 ? 2 + 4 + 4 + 1 : 1 + 4 + 1 + 1);
      for (let cut = lastEntry + 1; cut < bytes.length; cut++) {
        expect(() => decodeStoredRecord(bytes.subarray(0, cut)), `layout ${bytes[0]} cut at ${cut}`).toThrow(
          /truncated/,
        );
      }
    }
    expect(() => decodeStoredRecord(Buffer.from([5, ...new Uint8Array(40)]))).toThrow(/unknown layout/);
    expect(() => decodeStoredRecord(Buffer.from([3, ...new Uint8Array(20)]))).toThrow(/unknown layout/);
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
