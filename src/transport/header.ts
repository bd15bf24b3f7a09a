import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import type { IdTransport } from './id-transport.js';

/** Default header of the header transport, for API clients that keep the id themselves. */
export const DEFAULT_SESSION_HEADER = 'x-session-id';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The header transport, for API clients: the id comes in request header `name` and goes out in the same
 * response header when it is new or changed. Responses that read it add the header to `Vary`.
 */
export function createHeaderTransport(name: string = DEFAULT_SESSION_HEADER): IdTransport {
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
    throw new InvalidOptionError(`headerName must be a header-name token, got ${String(name)}`);
  }
  const header = name.toLowerCase();
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
