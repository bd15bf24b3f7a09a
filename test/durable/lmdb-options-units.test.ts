import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dataFile,
  environmentOptions,
  SESSIONS_DB,
} from '../../src/providers/sharded/durable/lmdb-options.js';

// How a shard opens its LMDB environment decides what an acknowledged write survives (README "Durability"):
// without `fsync` a commit is in the OS's page cache (survives kill -9), with it on the disk (power loss).
// Every thread must open one path with the same flags (lmdb-js shares the environment within a process).
// The shard threads run this from dist/: this in-process test is what a mutant of it meets.

describe('durable LMDB options', () => {
  it('syncs each commit only with fsync, never overlaps syncs, and keeps its files in the dir', () => {
    expect(environmentOptions({ dir: '/var/s', fsync: false, mapSize: 0 })).toEqual({
      path: '/var/s',
      noSubdir: false,
      noSync: true,
      overlappingSync: false,
      maxDbs: 4,
    });
    expect(environmentOptions({ dir: '/var/s', fsync: true, mapSize: 1 << 20 })).toEqual({
      path: '/var/s',
      noSubdir: false,
      noSync: false,
      overlappingSync: false,
      maxDbs: 4,
    });
  });

  it('names the data file and the sessions database as the README and the dir claim expect', () => {
    expect(dataFile('/var/s')).toBe(join('/var/s', 'data.mdb'));
    expect(SESSIONS_DB).toBe('sessions');
  });
});
