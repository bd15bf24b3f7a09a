import { InvalidOptionError } from './errors.js';

// A dozen lines instead of the `ms` package: we need only whole units, and a parser we own can reject
// everything ambiguous ('1.5.3m', '-5m', '10 minutes') with a clear InvalidOptionError at construction.
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/**
 * Parses a duration option into milliseconds: a number is taken as ms; a string is one or more
 * `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d`, `w` (e.g. `'30m'`, `'1h30m'`, `'500ms'`).
 * Throws `InvalidOptionError` naming the option for anything else, or for a result that is not a positive
 * whole number of ms.
 */
export function parseDuration(name: string, value: number | string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    ms = parseDurationString(value.trim());
  } else {
    ms = Number.NaN;
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new InvalidOptionError(
      `${name} must be a positive whole number of ms or a string like '30m' or '1h30m', got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

function parseDurationString(text: string): number {
  if (text === '') return Number.NaN;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return Number.NaN;
    const unit = UNIT_MS[match[2] as string] as number;
    total += Number(match[1]) * unit;
  }
  return Math.round(total);
}
