import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/duration.js';
import { InvalidOptionError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    [1, 1],
    [90_000, 90_000],
    ['1ms', 1],
    ['2s', 2000],
    ['3m', 180_000],
    ['4h', 14_400_000],
    ['5d', 432_000_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5s', 1500],
    ['0.5ms1ms', 2], // 1.5 ms, rounded
    [' 30m ', 1_800_000],
    ['500ms', 500],
  ] as const)('reads %o as %d ms', (value, ms) => {
    expect(parseDuration('ttl', value)).toBe(ms);
  });

  it.each([
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    '',
    '   ',
    '0s',
    '0.1ms',
    '10',
    'm',
    '10 minutes',
    '-5m',
    '1.5.3m',
    '5mx',
    'x5m',
    '5m x',
    '1y',
    null,
    undefined,
    {},
    ['1s'],
  ])('refuses %o with an InvalidOptionError naming the option and the value', (value) => {
    const attempt = () => parseDuration('pruneInterval', value as string);
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(
      /^pruneInterval must be a positive whole number of ms or a string like '30m' or '1h30m', got /,
    );
    expect(attempt).toThrow(`got ${JSON.stringify(value)}`);
  });

  it('parses the same string the same way twice in a row (the shared sticky pattern restarts)', () => {
    expect(parseDuration('a', '1h30m')).toBe(5_400_000);
    expect(() => parseDuration('b', '1hx')).toThrow(InvalidOptionError);
    expect(parseDuration('c', '1h30m')).toBe(5_400_000);
    expect(parseDuration('d', '45s')).toBe(45_000);
  });
});
