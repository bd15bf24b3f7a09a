/**
 * Where the 'redis' provider keeps what, so that operators can inspect and size it (the README's "Key
 * layout" section says the same). With the default prefix `sess:`:
 *
 * - `sess:{t}:<sid>` — one hash per session: a field per session key holding its encoded value, and the
 *   field `""` (which no session key can be) holding the timestamps (see `session-meta.ts`).
 * - `sess:{t}:expiry` — one sorted set per slot group: every session of the group, scored by the moment it
 *   dies. `count()` reads it (ZCOUNT) instead of scanning the keyspace; `gc()` sweeps it.
 * - `sess:{t}:move:<sid>` — only during a rename across slot groups on Redis Cluster: who won the move.
 *
 * `{t}` is the group's hash tag: Redis Cluster places a key by the part between braces, so a session, its
 * group's index and its move record share one slot, and every script touches a single slot.
 */

/**
 * The id space is split into 64 slot groups by the id's first character (base64url: 6 random bits). 64
 * groups spread sessions over up to 64 Cluster masters, and keep `count()` and `stats()` at 64 small
 * commands. The number is part of the stored layout: changing it would orphan every stored session.
 */
export const SLOT_GROUPS = 64;

/** Redis Cluster's slot count: a key's slot is CRC16(hash tag) mod 16384. */
const CLUSTER_SLOTS = 16384;
const SLOTS_PER_GROUP = CLUSTER_SLOTS / SLOT_GROUPS;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const GROUP_OF_CHAR = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) GROUP_OF_CHAR[ALPHABET.charCodeAt(i)] = i;

/** CRC16-CCITT (XMODEM), the hash Redis Cluster places keys with (its cluster spec, appendix A). */
export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Cluster slot of a hash tag. */
export function slotOf(tag: string): number {
  return crc16(tag) % CLUSTER_SLOTS;
}

/**
 * The hash tag of each group: the first short name (in base-36 counting order) whose slot falls in the
 * group's own 1/64th of the slot range. A cluster created the usual way gives each master a contiguous
 * range of slots, so each master then holds the same number of groups (21 or 22 of 64 with 3 masters),
 * where 64 arbitrary tags would spread them unevenly (±35%). Deterministic: the tags never change.
 */
function computeGroupTags(): readonly string[] {
  const tags = new Array<string | undefined>(SLOT_GROUPS);
  let found = 0;
  for (let n = 0; found < SLOT_GROUPS; n++) {
    const tag = n.toString(36);
    const group = Math.floor(slotOf(tag) / SLOTS_PER_GROUP);
    if (tags[group] === undefined) {
      tags[group] = tag;
      found++;
    }
  }
  return tags as string[];
}

export const GROUP_TAGS: readonly string[] = computeGroupTags();

/** The slot group of a (checked) session id. */
export function groupOf(sid: string): number {
  return GROUP_OF_CHAR[sid.charCodeAt(0) & 127] as number;
}

/** Key names under one prefix. */
export class KeyLayout {
  readonly #sessionPrefixes: readonly string[];
  readonly #indexKeys: readonly string[];

  constructor(readonly prefix: string) {
    this.#sessionPrefixes = GROUP_TAGS.map((tag) => `${prefix}{${tag}}:`);
    this.#indexKeys = this.#sessionPrefixes.map((base) => `${base}expiry`);
  }

  /** The hash holding the session `sid` (of group `group`). */
  sessionKey(sid: string, group = groupOf(sid)): string {
    return `${this.#sessionPrefixes[group]}${sid}`;
  }

  /** The sorted set of deadlines of group `group`. The scripts derive session keys from it (minus `expiry`). */
  indexKey(group: number): string {
    return this.#indexKeys[group] as string;
  }

  /** The record of a rename across groups whose new id is `sid` (Cluster only). */
  moveKey(sid: string, group = groupOf(sid)): string {
    return `${this.#sessionPrefixes[group]}move:${sid}`;
  }
}
