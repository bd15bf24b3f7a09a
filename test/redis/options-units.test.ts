import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveRedisOptions } from '../../src/providers/redis/options.js';

// Where the 'redis' provider connects, checked at construction (layout-units.test.ts has the rest of its
// options): found by mutation testing, none of these refusals had a test.

describe('redis options: where to connect', () => {
  it('takes redis:// and rediss:// URLs and refuses anything else, naming it', () => {
    expect(resolveRedisOptions({ url: 'redis://127.0.0.1:6379' }).url).toBe('redis://127.0.0.1:6379');
    expect(resolveRedisOptions({ url: 'rediss://cache.example:6380' }).url).toBe(
      'rediss://cache.example:6380',
    );
    // A URL object reads like one as text, but only a string is taken (the regex alone would coerce it).
    for (const url of [
      'http://127.0.0.1:6379',
      'redis://',
      '127.0.0.1:6379',
      5,
      new URL('redis://127.0.0.1:6379'),
    ]) {
      expect(() => resolveRedisOptions({ url: url as string })).toThrow(
        new InvalidOptionError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`),
      );
    }
  });

  it('takes a cluster of host:port nodes and refuses a node without a port or not a string', () => {
    expect(resolveRedisOptions({ cluster: ['a:7000', 'redis://b:7001'] }).cluster).toEqual([
      'a:7000',
      'redis://b:7001',
    ]);
    for (const cluster of [['a:7000', 'b'], [7000], ['a b:7000'], [{ toString: () => 'a:7000' }]]) {
      expect(() => resolveRedisOptions({ cluster: cluster as string[] })).toThrow(
        new InvalidOptionError('cluster must be a non-empty array of "host:port" strings'),
      );
    }
  });

  it('takes a client with fcallBuffer, and refuses null or anything without it as an InvalidOptionError', () => {
    const client = { fcallBuffer: () => Promise.resolve(null) };
    expect(resolveRedisOptions({ client: client as never }).client).toBe(client);
    for (const bad of [null, {}, { fcallBuffer: 'no' }]) {
      expect(() => resolveRedisOptions({ client: bad as never })).toThrow(
        new InvalidOptionError('client must be an ioredis 6 Redis or Cluster (it has no fcallBuffer method)'),
      );
    }
  });
});
