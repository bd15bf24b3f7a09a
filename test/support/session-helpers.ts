import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { CookieJar } from 'tough-cookie';
import type { SessionManager } from '../../src/index.js';
import { withSession } from '../../src/index.js';
import type { SessionProvider } from '../../src/providers/provider.js';

/** A real HTTP server on 127.0.0.1, on a free port. */
export interface Listening {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1:0. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listening> {
  return listenServer(createServer(handler));
}

/** Starts an existing server on 127.0.0.1:0. */
export async function listenServer(server: Server): Promise<Listening> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A controllable clock for expiry tests. */
export class Clock {
  constructor(public time = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A browser-like client: fetch plus a tough-cookie jar that stores every Set-Cookie. */
export class Browser {
  readonly jar = new CookieJar();
  constructor(readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.base).toString();
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(url);
    if (cookie !== '') headers.set('cookie', cookie);
    const response = await fetch(url, { redirect: 'manual', ...init, headers });
    for (const line of response.headers.getSetCookie()) await this.jar.setCookie(line, url);
    return response;
  }

  async text(path: string, init?: RequestInit): Promise<string> {
    return (await this.fetch(path, init)).text();
  }

  /** The value of cookie `name` in the jar, or undefined. */
  async cookie(name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(this.base);
    return cookies.find((c) => c.key === name)?.value;
  }
}

/**
 * A small node:http app over a manager, one route per session operation:
 * /get?key, /set?key&value, /incr?key, /regenerate?keep=0|1, /destroy, /restart (destroy, start, set),
 * /touch, /nothing, /flush (set, flushHeaders, end), /sse (writeHead with a headers object holding Set-Cookie).
 */
export function sessionApp(manager: SessionManager) {
  return withSession(manager, async (req, res, session) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = url.searchParams.get('key') ?? 'k';
    const json = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/get':
        return json({ id: session.id, isNew: session.isNew, value: session.get(key) ?? null });
      case '/set':
        session.set(key, url.searchParams.get('value'));
        return json({ id: session.id });
      case '/incr':
        return json({ id: session.id, value: await session.incr(key, 1) });
      case '/regenerate': {
        const before = session.id;
        await session.regenerate({ keep: url.searchParams.get('keep') !== '0' });
        return json({ before, after: session.id, value: session.get(key) ?? null });
      }
      case '/destroy':
        await manager.destroy(req, res);
        return json({ destroyed: true });
      case '/restart': {
        const before = session.id;
        await session.destroy();
        const fresh = await manager.start(req, res);
        fresh.set(key, 'fresh');
        return json({ before, after: fresh.id });
      }
      case '/touch':
        session.touch();
        return json({ id: session.id });
      case '/nothing':
        return json({ id: session.id, isNew: session.isNew });
      case '/flush':
        session.set(key, 'flushed');
        res.flushHeaders();
        res.end('ok');
        return;
      case '/late':
        res.flushHeaders();
        session.set(key, 'late');
        res.end('ok');
        return;
      case '/sse':
        session.set(key, 'sse');
        res.writeHead(200, {
          'Content-Type': 'text/event-stream',
          'Set-Cookie': 'other=1; Path=/',
          Vary: 'Accept-Encoding',
        });
        res.write('data: one\n\n');
        res.end('data: two\n\n');
        return;
      default:
        res.statusCode = 404;
        res.end();
    }
  });
}

/**
 * Sends one raw HTTP/1.1 GET with `cookieBytes` as the Cookie header, byte for byte (fetch refuses invalid
 * header values), and resolves the whole answer as latin1 text (status line, headers, body).
 */
export async function rawCookieExchange(url: string, path: string, cookieBytes: Buffer): Promise<string> {
  const { port, hostname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(
    Buffer.concat([
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\nCookie: `, 'latin1'),
      cookieBytes,
      Buffer.from('\r\n\r\n', 'latin1'),
    ]),
  );
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}
/** `base` with some methods replaced (the others bound to it: providers keep their state in #private fields). */
export function overriding(base: SessionProvider, overrides: Partial<SessionProvider>): SessionProvider {
  const methods = [
    'init',
    'read',
    'commit',
    'incr',
    'rename',
    'destroy',
    'gc',
    'count',
    'stats',
    'close',
  ] as const;
  const bound = Object.fromEntries(methods.map((name) => [name, base[name].bind(base)]));
  return { ...bound, ...overrides } as SessionProvider;
}
