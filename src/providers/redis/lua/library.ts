import { createHash } from 'node:crypto';
import { HELPERS } from './helpers.js';
import { MOVE_FUNCTIONS } from './move-functions.js';
import { SESSION_FUNCTIONS } from './session-functions.js';
import { USER_FUNCTIONS } from './user-functions.js';

/**
 * The provider's Redis functions (Redis >= 7.0 `FUNCTION LOAD`), one library. Functions rather than EVALSHA
 * scripts because Redis persists and replicates them: a replica promoted by a failover already has them,
 * where a script cache starts empty, every EVALSHA fails (NOSCRIPT) and its retry lands after commands that
 * were sent later.
 *
 * Every function takes the provider's clock (`now`) as an argument: deadlines are compared with the
 * application's clock, never Redis's; Redis backs them up by expiring each key (PEXPIREAT) at its
 * deadline. Keys are declared (KEYS) except the session keys a sweep or an eviction derives from its group's
 * index key, which share its hash tag and so its slot. A function raises its errors before it writes
 * anything: Redis does not undo the writes of a function that fails half-way.
 *
 * Replies: a session's timestamps travel as the meta string (see `session-meta.ts`); an error reply names
 * its case with an `SS…` code that `replies.ts` turns into the typed error. A call that began or ended
 * user-bound sessions answers `{ 0, reply, events… }` instead (see `evented`, and `event-inbox.ts`): a reply
 * of its own never starts with an integer, and a call that touched no bound session answers as before.
 */
const EVENTED = `
local function evented(f)
  return function(keys, args)
    EVENTS = nil
    local reply = f(keys, args)
    if not EVENTS then return reply end
    if reply == nil then reply = false end
    local out = { 0, reply }
    for i = 1, #EVENTS do out[i + 2] = EVENTS[i] end
    EVENTS = nil
    return out
  end
end
`;

const BODY = HELPERS + SESSION_FUNCTIONS + MOVE_FUNCTIONS + USER_FUNCTIONS + EVENTED;

const FUNCTION_NAMES = [
  'read',
  'init',
  'commit',
  'incr',
  'rename',
  'destroy',
  'gc',
  'freeze',
  'put',
  'drop',
  'unfreeze',
  'fence',
  'bind',
  'retime',
  'sessions_of',
  'revoke',
] as const;

/** One of the library's functions. */
export type FunctionName = (typeof FUNCTION_NAMES)[number];

// The library is named after its code: two versions of shard-session on one Redis (a rolling deploy) each
// call their own functions. An old version's library stays until `FUNCTION DELETE <name>`.
const VERSION = createHash('sha1').update(BODY).digest('hex').slice(0, 10);

/** The library's name in Redis (`FUNCTION LIST`). */
export const LIBRARY_NAME = `shardsession_${VERSION}`;

/** The name Redis knows a function by (function names are global to a server, hence the version in it). */
export const functionName = (name: FunctionName): string => `${LIBRARY_NAME}_${name}`;

/** The source `FUNCTION LOAD` takes. */
export const LIBRARY_SOURCE = [
  `#!lua name=${LIBRARY_NAME}`,
  BODY,
  ...FUNCTION_NAMES.map((name) => `redis.register_function('${functionName(name)}', evented(${name}))`),
].join('\n');
