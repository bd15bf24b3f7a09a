import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createSessionManager,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  sendSessionError,
} from '../../src/index.js';
import { badRequest, forbidden, HTML, redirect, send, TEXT, tooLarge } from './answers.js';
import { deviceLabel, devicesOf, hasUserIndex } from './devices.js';
import { declaresMoreThan, field, readForm } from './forms.js';
import {
  isCrossSite,
  LOGIN_TOKEN_COOKIE,
  loginTokenCookie,
  newToken,
  securityHeaders,
  tokensMatch,
} from './guard.js';
import { homePage, loginForm, MAX_USERNAME_LENGTH, page } from './pages.js';

export { escapeHtml } from './pages.js';

/** What the demo keeps in a session: the counter, and once logged in the username and the form token. */
export type DemoData = { count: number; username: string; csrf: string };

/** Options of {@link createDemoServer}. */
export interface DemoOptions {
  /** Shard threads of the 'sharded' provider; default: the provider's own default. */
  shards?: number;
  /** Keep the sessions in LMDB files in this directory (the 'sharded' provider's `dir`); default: memory. */
  dir?: string;
  /** The manager's options, instead of the 'sharded' provider with `shards` (tests pass a clock or another provider). */
  manager?: SessionManagerOptions;
  /** Ms a client may take to send the request headers (default 5 s): slow-header clients are cut off. */
  headersTimeoutMs?: number;
  /** Ms a client may take to send the whole request, body included (default 10 s). */
  requestTimeoutMs?: number;
}

/** The demo: a node:http server and its session manager, not yet listening. */
export interface Demo {
  readonly server: Server;
  readonly manager: SessionManager<DemoData>;
  /** Stops accepting connections, ends idle ones, and closes the session store. */
  close(): Promise<void>;
}

// Any form body longer than this cannot hold a valid login: refuse it (413) instead of reading it. No route
// takes a larger body of any kind, so a declared length over it is refused before routing.
const MAX_FORM_BODY_BYTES = 1024;
// Control characters (NUL, CR, LF …) have no place in a name shown on pages, and the user index refuses NUL.
const CONTROL_CHARACTER = /\p{Cc}/u;

/** Builds the demo app: the classic chapter's login and counter pages, over shard-session. */
export function createDemoServer(options: DemoOptions = {}): Demo {
  const manager = createSessionManager<DemoData>(
    options.manager ?? {
      provider: 'sharded',
      providerOptions: {
        ...(options.shards !== undefined && { shards: options.shards }),
        ...(options.dir !== undefined && { dir: options.dir }),
      },
    },
  );
  const headersTimeout = options.headersTimeoutMs ?? 5_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(options.requestTimeoutMs ?? 10_000, headersTimeout),
      // How often Node looks for requests past those timeouts (default 30 s, which would let a slow client
      // hold a connection half a minute longer than the timeout says).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    (req, res) => handle(manager, req, res),
  );
  // `Expect: 100-continue`: a body the demo would refuse is refused before the client is invited to send it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!declaresMoreThan(req, MAX_FORM_BODY_BYTES)) res.writeContinue();
    handle(manager, req, res);
  });
  return {
    server,
    manager,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await manager.close();
    },
  };
}

function handle(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse): void {
  securityHeaders(res);
  // No route takes a larger body of any kind: refused unread, whatever the route or content type.
  if (declaresMoreThan(req, MAX_FORM_BODY_BYTES)) tooLarge(res, MAX_FORM_BODY_BYTES);
  else route(manager, req, res).catch((error: unknown) => sendSessionError(res, error));
}

async function route(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  const read = method === 'GET' || method === 'HEAD';
  if (path === '/' && read) return home(manager, req, res);
  // HEAD asks what GET would answer without doing it: it must not count a visit.
  if (path === '/count' && method === 'HEAD') return send(res, 200, TEXT, '');
  if (path === '/count' && method === 'GET') {
    const session = await manager.start(req, res);
    return send(res, 200, TEXT, `${await session.incr('count')}\n`);
  }
  if (path === '/login' && read) return send(res, 200, HTML, page('Log in', loginForm(loginToken(req, res))));
  if (path === '/login' && method === 'POST') return login(manager, req, res);
  if (path === '/logout' && method === 'POST') return logout(manager, req, res);
  if (path === '/sessions' && read) return sessionsJson(manager, req, res);
  if (path === '/sessions/revoke' && method === 'POST') return revokeDevice(manager, req, res, 'one');
  if (path === '/logout-everywhere' && method === 'POST') return revokeDevice(manager, req, res, 'all');
  if (path === '/stats' && read) {
    const [sessions, shards] = await Promise.all([manager.count(), manager.stats()]);
    const { unawaitedCommitFailures } = shards; // an array property: JSON.stringify(shards) would drop it
    return send(res, 200, 'application/json', JSON.stringify({ sessions, unawaitedCommitFailures, shards }));
  }
  return send(res, 404, TEXT, 'Not Found\n');
}

async function home(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const session = await manager.start(req, res);
  const username = session.get('username');
  const devices = username && hasUserIndex(manager) ? await devicesOf(manager, session, username) : undefined;
  const html = homePage({
    username,
    count: session.get('count') ?? 0,
    loginToken: username ? undefined : loginToken(req, res),
    sessionToken: session.get('csrf'),
    devices,
  });
  send(res, 200, HTML, html);
}

async function login(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const form = await readPost(req, res);
  if (!form) return;
  if (!tokensMatch(field(form, 'csrf'), cookieValue(req, LOGIN_TOKEN_COOKIE))) return forbidden(res);
  const username = field(form, 'username');
  if (!username || [...username].length > MAX_USERNAME_LENGTH || CONTROL_CHARACTER.test(username)) {
    return badRequest(
      res,
      `The username must be 1 to ${MAX_USERNAME_LENGTH} characters, none of them a control character.`,
    );
  }
  const session = await manager.start(req, res);
  // A new id at login, keeping the data (the counter): whoever planted or saw the old id gets nothing.
  await session.regenerate({ keep: true });
  session.set('username', username);
  session.set('csrf', newToken());
  // "Remember me": this session alone lives 30 days (within the manager's maxTimeouts), and its cookie says so.
  if (field(form, 'remember') === '1' && typeof manager.provider.setTimeouts === 'function') {
    await session.setTimeouts({ idle: '30d', absolute: '30d' });
  }
  // Listed under the user's devices, and ended by "Log out everywhere" (stores with a user index only).
  if (hasUserIndex(manager)) await session.setUser(username, { label: deviceLabel(req) });
  // Stored before the redirect goes out: with DATABASE_URL, the next request may reach another demo process,
  // and only this process's own reads are ordered after a commit it has merely sent.
  await session.save();
  res.appendHeader('Set-Cookie', `${LOGIN_TOKEN_COOKIE}=; Path=/; Max-Age=0`);
  redirect(res, '/');
}

async function logout(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const form = await readPost(req, res);
  if (!form) return;
  const session: Session<DemoData> = await manager.start(req, res);
  if (!tokensMatch(field(form, 'csrf'), session.get('csrf'))) return forbidden(res);
  await session.destroy();
  redirect(res, '/');
}

/** `GET /sessions`: the logged-in user's sessions as JSON (401 when not logged in). */
async function sessionsJson(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const session = await manager.start(req, res);
  const username = session.get('username');
  if (!username) return send(res, 401, 'application/json', '{"error":"not logged in"}');
  const devices = hasUserIndex(manager) ? await devicesOf(manager, session, username) : [];
  const sessions = devices.map(({ handle, current, createdAt, lastSeenAt }) => ({
    handle,
    current,
    createdAt,
    lastSeenAt,
  }));
  send(res, 200, 'application/json', JSON.stringify({ sessions }));
}

/** `POST /sessions/revoke` (field `handle`: one device) and `POST /logout-everywhere` (all, this one too). */
async function revokeDevice(
  manager: SessionManager<DemoData>,
  req: IncomingMessage,
  res: ServerResponse,
  which: 'one' | 'all',
) {
  const form = await readPost(req, res);
  if (!form) return;
  const session = await manager.start(req, res);
  if (!tokensMatch(field(form, 'csrf'), session.get('csrf'))) return forbidden(res);
  const username = session.get('username');
  if (username && hasUserIndex(manager)) {
    const handle = field(form, 'handle') ?? '';
    if (which === 'all') await manager.revokeUser(username);
    else if (/^[A-Za-z0-9_-]{22}$/.test(handle)) await manager.revoke(username, handle);
    else return badRequest(res, 'No such device.');
    // This device was among them: its session is gone, and the response tells the browser to drop the cookie.
    if (which === 'all' || handle === session.handle) await session.destroy();
  }
  redirect(res, '/');
}

/** The form of a same-site POST, or undefined once the refusal (403, 413 or 400) has been sent. */
async function readPost(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Map<string, string[]> | undefined> {
  // A refusal does not read the body it refuses: send() closes the connection after answering.
  if (isCrossSite(req)) {
    forbidden(res);
    return undefined;
  }
  const form = await readForm(req, MAX_FORM_BODY_BYTES);
  if (form === 'too-large') {
    tooLarge(res, MAX_FORM_BODY_BYTES);
    return undefined;
  }
  if (form === 'not-a-form' || form === 'malformed') {
    badRequest(res, 'Send the form as application/x-www-form-urlencoded.');
    return undefined;
  }
  return form;
}

/** The login form's token: the one the client already holds, or a new one set in its cookie. */
function loginToken(req: IncomingMessage, res: ServerResponse): string {
  const existing = cookieValue(req, LOGIN_TOKEN_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{22}$/.test(existing)) return existing;
  const token = newToken();
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  res.appendHeader('Set-Cookie', loginTokenCookie(token, secure));
  return token;
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
