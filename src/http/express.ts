import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionError } from '../errors.js';
import type { SessionManager } from '../manager.js';
import { RequestSession } from '../request-session.js';
import type { Session, SessionData } from '../session.js';
import { isRetryable, sendSessionError } from './errors.js';

/** A request after the middleware ran: `req.session` is the request's session. */
export type RequestWithSession<Data extends object = SessionData> = IncomingMessage & {
  session: Session<Data>;
};

/** A Connect/Express middleware: `(req, res, next)`. */
export type SessionMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Express/Connect middleware that sets `req.session`. A failure that passes by itself (overload, a shard
 * restarting, an unreachable store) is answered with 503 and Retry-After; any other failure goes to
 * `next(err)` (the app's error handler).
 *
 * ```ts
 * app.use(createExpressMiddleware(manager));
 * app.get('/', async (req, res) => res.send(String(await (req as RequestWithSession).session.incr('n'))));
 * ```
 */
export function createExpressMiddleware<Data extends object = SessionData>(
  manager: SessionManager<Data>,
): SessionMiddleware {
  return (req, res, next) => {
    manager.start(req, res).then(
      (session) => {
        (req as RequestWithSession<Data>).session = session;
        next();
      },
      (error: unknown) => {
        if (isRetryable(error) && !res.headersSent) sendSessionError(res, error);
        else next(error);
      },
    );
  };
}

/**
 * The session the middleware put on `req`, typed by your data; throws a `SessionError` (`ERR_NO_SESSION`) when the
 * middleware did not run for this request. Prefer it to casting `req`: it works whatever other packages declare
 * `req.session` to be (e.g. @types/express-session).
 *
 * ```ts
 * app.get('/count', async (req, res) => res.send(String(await getSession<Data>(req).incr('count'))));
 * ```
 */
export function getSession<Data extends object = SessionData>(req: object): Session<Data> {
  const session = (req as { session?: unknown }).session;
  if (!(session instanceof RequestSession)) {
    throw new SessionError(
      'ERR_NO_SESSION',
      'no session on this request: install createExpressMiddleware(manager) before this route',
    );
  }
  return session as unknown as Session<Data>;
}
