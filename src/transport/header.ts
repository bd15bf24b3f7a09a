import type { IncomingMessage } from 'node:http';

/** Default header of the header transport, for API clients that keep the id themselves. */
export const DEFAULT_SESSION_HEADER = 'x-session-id';

/** The id value carried in request header `name`, or undefined (a repeated header is ignored as ambiguous). */
export function readHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return typeof value === 'string' && value !== '' ? value.trim() : undefined;
}
