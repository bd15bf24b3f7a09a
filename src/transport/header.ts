import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import type { IdTransport } from './id-transport.js';

/** Default header of the header transport, for API clients that keep the id themselves. */
export const DEFAULT_SESSION_HEADER = 'x-session-id';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Headers with a meaning of their own: the id would be mangled by proxies (hop-by-hop), overwrite what a
// response needs (vary, set-cookie, referrer-policy), or be confused with the cookie transport.
const TAKEN = new Set([
  'cookie',
  'set-cookie',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'content-length',
  'content-type',
  'vary',
  'referrer-policy',
]);

/**
 * The header transport, for API clients: the id comes in request header `name` and goes out in the same
 * response header when it is new or changed. Responses that read it add the header to `Vary`.
 */
export function createHeaderTransport(name: string = DEFAULT_SESSION_HEADER): IdTransport {
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
    throw new InvalidOptionError(`headerName must be a header-name token, got ${String(name)}`);
  }
  const header = name.toLowerCase();
  if (TAKEN.has(header)) {
    throw new InvalidOptionError(
      `headerName ${JSON.stringify(name)} is a header HTTP or this library already uses; pick your own, like 'x-session-id'`,
    );
  }
  return {
    name: 'header',
    read: (req) => readHeader(req, header),
    write(sink, _req, outcome) {
      sink.addVary(header);
      if (outcome.kind === 'live' && outcome.changed) sink.setHeader(header, outcome.value);
    },
  };
}

/** The id value carried in request header `name` (lower case), or undefined (a repeated header is ignored as ambiguous). */
function readHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value.trim() : undefined;
}
