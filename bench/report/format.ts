/** Number formats of the report's tables: medians with their [min–max]. */
import type { Spread } from './aggregate.js';

export const num = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Milliseconds with three significant-ish digits. */
export const ms = (n: number) => (n < 10 ? num(n, 3) : n < 100 ? num(n, 2) : num(n, 1));

export const mib = (bytes: number) => num(bytes / 2 ** 20, 0);

/** `median [min–max]`, each with `format`; a lone run shows its value only; no runs show `–`. */
export function spread(s: Spread | undefined, format: (n: number) => string = (n) => num(n)): string {
  if (s === undefined) return '–';
  if (s.n === 1 || s.min === s.max) return format(s.median);
  return `${format(s.median)} [${format(s.min)}–${format(s.max)}]`;
}

/** A median alone, for the columns where the spread would only crowd the table (the JSON has every run). */
export function median(s: Spread | undefined, format: (n: number) => string = (n) => num(n)): string {
  return s === undefined ? '–' : format(s.median);
}

export const ratio = (n: number) => `${num(n, 2)}×`;
