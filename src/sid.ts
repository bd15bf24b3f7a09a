import { randomBytes } from 'node:crypto';

/** Bytes of entropy in a session id: 256 bits, as in the design. */
const SID_BYTES = 32;
/** Length of a session id: 32 bytes in base64url without padding. */
export const SID_LENGTH = 43;

// 43 base64url characters; the last one carries only 4 bits of the 32nd byte, so only the characters
// whose low 2 bits are zero can appear there. Checking that keeps every accepted id canonical: two
// different strings never decode to the same bytes.
const SID_SHAPE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** A fresh, unguessable session id: 32 bytes from the CSPRNG, base64url, no padding. */
export function generateSid(): string {
  return randomBytes(SID_BYTES).toString('base64url');
}

/** True when `value` is a string with the exact shape of a session id. Cheap: run it before any lookup. */
export function isValidSid(value: unknown): value is string {
  return typeof value === 'string' && value.length === SID_LENGTH && SID_SHAPE.test(value);
}
