/**
 * A flat copy of a string a frame carried, for keeping: msgpackr decodes a frame's short strings as slices of
 * one string it makes of the frame's bytes (V8 sliced strings: a 32 B object pointing into the parent), so a
 * session id kept as a table key held its whole frame's text alive, and cost 32 B more than a flat string.
 * At 1,000,000 sessions made 30 to a frame that was ~66 B of a shard's heap per session (258 B against the
 * 'memory' provider's 192 for the same table). Sids are base64url, so a latin1 round trip copies them exactly.
 */
export function ownedSid(sid: string): string {
  return Buffer.from(sid, 'latin1').toString('latin1');
}

/** The same for any text a shard keeps (user ids, labels): UTF-8 round trip, exact for well-formed strings. */
export function ownedText(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
