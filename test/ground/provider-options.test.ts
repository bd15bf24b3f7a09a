import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import {
  COMMON_OPTION_NAMES,
  DEFAULT_GC_INTERVAL_MS,
  DEFAULT_GC_SLICE_MS,
  DEFAULT_LIMITS,
  integerOption,
  resolveLimits,
  resolveProviderOptions,
} from '../../src/providers/provider-options.js';

describe('provider options', () => {
  it('fills in every default for no options', () => {
    for (const options of [undefined, {}]) {
      const resolved = resolveProviderOptions('memory', options);
      expect(resolved.limits).toEqual({
        maxValueBytes: 65_536,
        maxSessionBytes: 1_048_576,
        maxKeys: 1000,
        maxSessions: 4_000_000,
        maxShardBytes: 0,
      });
      expect(resolved.limits).toEqual(DEFAULT_LIMITS);
      expect(resolved.now).toBe(Date.now);
      expect(resolved.gcIntervalMs).toBe(1000);
      expect(resolved.gcSliceMs).toBe(2);
      expect([DEFAULT_GC_INTERVAL_MS, DEFAULT_GC_SLICE_MS]).toEqual([1000, 2]);
    }
  });

  it('keeps every value given', () => {
    const now = () => 5;
    const resolved = resolveProviderOptions(
      'memory',
      {
        maxValueBytes: 1,
        maxSessionBytes: 2,
        maxKeys: 3,
        maxSessions: 4,
        maxShardBytes: 5,
        now,
        gcIntervalMs: 0,
        gcSliceMs: 1,
      },
      ['maxShardBytes'],
    );
    expect(resolved).toEqual({
      limits: { maxValueBytes: 1, maxSessionBytes: 2, maxKeys: 3, maxSessions: 4, maxShardBytes: 5 },
      now,
      gcIntervalMs: 0,
      gcSliceMs: 1,
    });
  });

  it('names an unknown option, the provider, and every option it knows', () => {
    expect(() => resolveProviderOptions('redis', { shard: 2 }, ['url'])).toThrow(
      new InvalidOptionError(
        `unknown option 'shard' of the 'redis' provider (known: url, ${COMMON_OPTION_NAMES.join(', ')})`,
      ),
    );
    // maxShardBytes is not common: only the providers that list it take it.
    expect(() => resolveProviderOptions('redis', { maxShardBytes: 1 })).toThrow(
      /unknown option 'maxShardBytes'/,
    );
    expect(COMMON_OPTION_NAMES).toEqual([
      'maxValueBytes',
      'maxSessionBytes',
      'maxKeys',
      'maxSessions',
      'now',
      'gcIntervalMs',
      'gcSliceMs',
    ]);
  });

  it('refuses options that are not an object, and a now that is not a function', () => {
    for (const bad of [null, 'x', 3]) {
      expect(() => resolveProviderOptions('postgres', bad)).toThrow(
        new InvalidOptionError("the 'postgres' provider's options must be an object"),
      );
    }
    expect(() => resolveProviderOptions('memory', { now: 5 })).toThrow(
      new InvalidOptionError('now must be a function'),
    );
  });

  it.each([
    ['maxValueBytes', 0],
    ['maxSessionBytes', 0],
    ['maxKeys', 0],
    ['maxSessions', 0],
    ['maxShardBytes', 0],
    ['gcIntervalMs', -1],
    ['gcSliceMs', 0],
  ])('refuses %s below its minimum (%d), and a fraction', (name, below) => {
    expect(() => resolveProviderOptions('memory', { [name]: below }, ['maxShardBytes'])).toThrow(
      new InvalidOptionError(`${name} must be an integer >= ${below + 1}, got ${below}`),
    );
    expect(() => resolveProviderOptions('memory', { [name]: 1.5 }, ['maxShardBytes'])).toThrow(
      `${name} must be an integer`,
    );
    expect(resolveProviderOptions('memory', { [name]: below + 1 }, ['maxShardBytes'])).toBeDefined();
  });

  it('integerOption: the fallback for undefined, the value when in range, else a message with the range', () => {
    expect(integerOption('n', undefined, 7, 1)).toBe(7);
    expect(integerOption('n', 1, 7, 1, 10)).toBe(1);
    expect(integerOption('n', 10, 7, 1, 10)).toBe(10);
    expect(integerOption('n', Number.MAX_SAFE_INTEGER, 7, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => integerOption('n', 11, 7, 1, 10)).toThrow(
      new InvalidOptionError('n must be an integer from 1 to 10, got 11'),
    );
    expect(() => integerOption('n', 0, 7, 1, 10)).toThrow('n must be an integer from 1 to 10, got 0');
    expect(() => integerOption('n', '5', 7, 1)).toThrow(
      new InvalidOptionError('n must be an integer >= 1, got 5'),
    );
    expect(() => integerOption('n', 2 ** 53, 7, 1)).toThrow('n must be an integer >= 1');
    expect(() => integerOption('n', Number.NaN, 7, 1)).toThrow('n must be an integer >= 1, got NaN');
    expect(() => integerOption('n', null, 7, 1)).toThrow('got null');
  });

  it('resolveLimits: defaults without options', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ maxKeys: 9 }).maxKeys).toBe(9);
  });
});
