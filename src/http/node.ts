import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionManager } from '../manager.js';
import type { Session, SessionData } from '../session.js';
import { sendSessionError } from './errors.js';

/** A node:http handler that receives the request's session. */
export type SessionHandler<Data extends object> = (
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<Data>,
) => unknown;

/**
 * Wraps a node:http handler: starts the session, calls the handler, and turns any rejection (the store's
 * overload → 503 with Retry-After, anything else → 500) into an answer instead of a hung request.
 *
 * ```ts
 * http.createServer(withSession(manager, async (req, res, session) => {
 *   res.end(String(await session.incr('count')));
 * }));
 * ```
 */
export function withSession<Data extends object = SessionData>(
  manager: SessionManager<Data>,
  handler: SessionHandler<Data>,
  onError: (error: unknown, req: IncomingMessage, res: ServerResponse) => void = (error, _req, res) =>
    sendSessionError(res, error),
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    manager
      .start(req, res)
      .then((session) => handler(req, res, session))
      .catch((error: unknown) => onError(error, req, res));
  };
}
