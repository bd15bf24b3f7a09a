/**
 * Unsigned LEB128 numbers (7 bits per byte, low bits first, the high bit set on every byte but the last): how
 * a packed record (packed-record.ts) stores its lengths and its idle timeout. A key or value under 128 bytes,
 * nearly every one, costs one byte of length instead of the fixed-width fields' two and four.
 * Numbers up to 2^53 (safe integers): past 31 bits the arithmetic is by multiplication, not shifts.
 */

/** The most bytes a safe integer takes (53 bits, 7 per byte). */
export const MAX_VARINT_BYTES = 8;

/** The number stored at `at` of the latin1 string `s` (one character per byte). */
export function varintAt(s: string, at: number): number {
  let byte = s.charCodeAt(at);
  if (byte < 0x80) return byte;
  let value = byte & 0x7f;
  let scale = 0x80;
  for (let i = 1; i < MAX_VARINT_BYTES; i++) {
    byte = s.charCodeAt(at + i);
    value += (byte & 0x7f) * scale;
    // A NaN (past the end) ends it too: a record in memory is never cut, but a loop must not run on.
    if (!(byte >= 0x80)) return value;
    scale *= 0x80;
  }
  return value;
}

/** How many bytes `value` takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** Writes `value` at `at` of `into`; returns where the next field starts. */
export function writeVarint(into: Uint8Array, at: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    into[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  into[at] = rest;
  return at + 1;
}
