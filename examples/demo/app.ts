import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createSessionManager,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  sendSessionError,
} from '../../src/index.js';

/** What the demo keeps in a session. */
export type DemoData = { count: number; username: string };

/** Options of {@link createDemoServer}. */
export interface DemoOptions {
  /** Shard threads of the 'sharded' provider; default: the provider's own default. */
  shards?: number;
  /** The manager's options, instead of the 'sharded' provider with `shards` (tests pass a clock or another provider). */
  manager?: SessionManagerOptions;
}

/** The demo: a node:http server and its session manager, not yet listening. */
export interface Demo {
  readonly server: Server;
  readonly manager: SessionManager<DemoData>;
  /** Stops accepting connections, ends idle ones, and closes the session store. */
  close(): Promise<void>;
}

const MAX_USERNAME_LENGTH = 64;
// Any login body longer than this cannot hold a valid username: stop reading instead of buffering it.
const MAX_LOGIN_BODY_BYTES = 1024;

/** Builds the demo app: the classic chapter's login and counter pages, over shard-session. */
export function createDemoServer(options: DemoOptions = {}): Demo {
  const manager = createSessionManager<DemoData>(
    options.manager ?? {
      provider: 'sharded',
      ...(options.shards === undefined ? {} : { providerOptions: { shards: options.shards } }),
    },
  );
  const server = createServer((req, res) => {
    route(manager, req, res).catch((error: unknown) => sendSessionError(res, error));
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

async function route(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  const read = method === 'GET' || method === 'HEAD';
  if (path === '/' && read) return home(res, await manager.start(req, res));
  if (path === '/count' && read) {
    const session = await manager.start(req, res);
    return send(res, 200, 'text/plain; charset=utf-8', `${await session.incr('count')}\n`);
  }
  if (path === '/login' && read) return send(res, 200, HTML, page('Log in', loginForm()));
  if (path === '/login' && method === 'POST') return login(manager, req, res);
  if (path === '/logout' && method === 'POST') {
    await manager.destroy(req, res);
    return redirect(res, '/');
  }
  if (path === '/stats' && read) {
    const [sessions, shards] = await Promise.all([manager.count(), manager.stats()]);
    return send(res, 200, 'application/json', JSON.stringify({ sessions, shards }));
  }
  return send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
}

function home(res: ServerResponse, session: Session<DemoData>): void {
  const username = session.get('username');
  const count = session.get('count') ?? 0;
  const greeting = username
    ? `<h1>Hello, ${escapeHtml(username)}</h1>
<form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : `<h1>Hello, stranger</h1>\n${loginForm()}`;
  send(
    res,
    200,
    HTML,
    page(
      'shard-session demo',
      `${greeting}
<p>Visits counted: <strong>${count}</strong>. <a href="/count">/count</a> adds one, atomically.</p>
<p><a href="/stats">/stats</a>: live sessions and per-shard numbers.</p>`,
    ),
  );
}

async function login(manager: SessionManager<DemoData>, req: IncomingMessage, res: ServerResponse) {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return badRequest(res, 'Send the form as application/x-www-form-urlencoded.');
  }
  const body = await readBody(req, MAX_LOGIN_BODY_BYTES);
  if (body === undefined)
    return badRequest(res, `The username must be 1 to ${MAX_USERNAME_LENGTH} characters.`);
  const username = parseUsername(body);
  if (username === undefined) return badRequest(res, 'The form could not be parsed.');
  if (username === '' || [...username].length > MAX_USERNAME_LENGTH) {
    return badRequest(res, `The username must be 1 to ${MAX_USERNAME_LENGTH} characters.`);
  }
  const session = await manager.start(req, res);
  // A new id at login, keeping the data (the counter): whoever planted or saw the old id gets nothing.
  await session.regenerate({ keep: true });
  session.set('username', username);
  redirect(res, '/');
}

/** The single `username` field of a urlencoded body, trimmed; undefined when the body is malformed. */
export function parseUsername(body: string): string | undefined {
  let username: string | undefined;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
    if (name !== 'username') continue;
    if (username !== undefined) return undefined; // two usernames: ambiguous
    username = value.trim();
  }
  return username ?? '';
}

/** The body as UTF-8 text, or undefined when it is longer than `limit` bytes (the rest is discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const HTML = 'text/html; charset=utf-8';

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 302;
  res.setHeader('Location', location);
  res.end();
}

function badRequest(res: ServerResponse, message: string): void {
  send(res, 400, HTML, page('Bad request', `<p>${escapeHtml(message)}</p>${loginForm()}`));
}

function loginForm(): string {
  return `<form method="post" action="/login">
<label>Username <input name="username" maxlength="${MAX_USERNAME_LENGTH}" required autofocus></label>
<button type="submit">Log in</button>
</form>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body></html>
`;
}

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
