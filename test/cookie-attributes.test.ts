import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSessionManager,
  type SessionCookieOptions,
  type SessionManager,
  type SessionManagerBaseOptions,
} from '../src/index.js';
import { type Listening, listen, sessionApp } from './support/session-helpers.js';

// Every cookie option, on the cookie that carries a new id and on the expired cookie a destroy sends: a
// browser drops a cookie only when name, path and domain match the one it holds, so the destroy cookie
// must carry them too. Attributes are read from the raw Set-Cookie line (a cookie jar would drop a Domain
// that does not match 127.0.0.1 and hide what was sent).

/** The attributes of one Set-Cookie line: lower-cased names, `true` for flags. */
function attributesOf(line: string): { pair: string; attrs: Record<string, string | true> } {
  const [pair, ...parts] = line.split(';').map((part) => part.trim());
  const attrs: Record<string, string | true> = {};
  for (const part of parts) {
    const at = part.indexOf('=');
    if (at < 0) attrs[part.toLowerCase()] = true;
    else attrs[part.slice(0, at).toLowerCase()] = part.slice(at + 1);
  }
  return { pair: pair as string, attrs };
}

type Case = { cookie: SessionCookieOptions; cookieName?: string; trustProxy?: boolean; https?: boolean };

/** What the Set-Cookie lines of a case must say, besides the name=value pair and Max-Age. */
function expectedAttributes(c: Case): Record<string, string | true> {
  const o = c.cookie;
  // 'auto' is Secure over (trusted) https, and always with SameSite=None, which browsers reject without it.
  const secure =
    o.secure === true ||
    ((o.secure ?? 'auto') === 'auto' && ((c.trustProxy === true && c.https) || o.sameSite === 'none'));
  const sameSite = o.sameSite === undefined ? 'lax' : o.sameSite;
  return {
    path: o.path ?? '/',
    ...(o.domain === undefined ? {} : { domain: o.domain }),
    ...((o.httpOnly ?? true) ? { httponly: true } : {}),
    ...(secure ? { secure: true } : {}),
    ...(sameSite === false ? {} : { samesite: sameSite[0]?.toUpperCase() + sameSite.slice(1) }),
    ...(o.partitioned ? { partitioned: true } : {}),
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  let i = 0;
  for (const path of [undefined, '/', '/app']) {
    for (const domain of [undefined, 'example.test']) {
      for (const secure of [undefined, 'auto', true, false] as const) {
        for (const sameSite of [undefined, 'lax', 'strict', 'none', false] as const) {
          if (sameSite === 'none' && secure === false) continue; // refused at construction
          i++;
          const cookie: SessionCookieOptions = {
            ...(path === undefined ? {} : { path }),
            ...(domain === undefined ? {} : { domain }),
            ...(secure === undefined ? {} : { secure }),
            ...(sameSite === undefined ? {} : { sameSite }),
            // The flags cycle so that each value of each meets every other option somewhere.
            ...(i % 3 === 0 ? {} : { httpOnly: i % 3 === 1 }),
            ...(i % 2 === 0 ? { partitioned: true } : i % 4 === 1 ? { partitioned: false } : {}),
            ...(Math.floor(i / 2) % 2 === 0 ? {} : { persistent: i % 3 !== 0 }),
          };
          out.push({ cookie, trustProxy: i % 5 < 2, https: i % 5 === 0 || i % 5 === 3 });
        }
      }
    }
  }
  out.push({ cookie: {}, cookieName: 'app.sid' });
  return out;
}

/** One raw HTTP/1.1 GET (so no client rewrites anything); resolves status and Set-Cookie lines. */
async function get(url: string, path: string, headers: Record<string, string>) {
  const { port, hostname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${lines.join('')}\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('latin1');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const setCookie = head
    .split('\r\n')
    .filter((l) => /^set-cookie:/i.test(l))
    .map((l) => l.slice(l.indexOf(':') + 1).trim());
  return { status: Number(head.slice(9, 12)), setCookie, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

describe('cookie attribute matrix: the set cookie and the destroy cookie carry every option', () => {
  let server: Listening;
  let current: ReturnType<typeof sessionApp>;
  const managers: SessionManager[] = [];

  beforeAll(async () => {
    server = await listen((req, res) => current(req, res));
  });
  afterAll(async () => {
    await server.close();
    await Promise.all(managers.map((m) => m.close()));
  });

  it('for each combination of path, domain, secure, sameSite, httpOnly, partitioned and persistent', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(100);
    for (const c of all) {
      const options: SessionManagerBaseOptions = {
        cookie: c.cookie,
        idleTimeout: '10m',
        ...(c.cookieName === undefined ? {} : { cookieName: c.cookieName }),
        ...(c.trustProxy === undefined ? {} : { trustProxy: c.trustProxy }),
      };
      const manager = createSessionManager({
        provider: 'memory',
        providerOptions: { gcIntervalMs: 0 },
        ...options,
      });
      managers.push(manager);
      current = sessionApp(manager);
      const name = c.cookieName ?? 'sid';
      const label = JSON.stringify(c);
      const proto: Record<string, string> = c.https ? { 'x-forwarded-proto': 'https' } : {};
      const expected = expectedAttributes(c);
      const persistent = c.cookie.persistent ?? true;

      const set = await get(server.url, '/set?value=1', proto);
      expect(set.status, label).toBe(200);
      expect(set.setCookie, label).toHaveLength(1);
      const { id } = JSON.parse(set.body) as { id: string };
      const created = attributesOf(set.setCookie[0] as string);
      expect(created.pair, label).toBe(`${name}=${id}`);
      const { 'max-age': maxAge, ...createdRest } = created.attrs;
      expect(createdRest, label).toEqual(expected);
      expect(maxAge, label).toBe(persistent ? '600' : undefined);

      const destroyed = await get(server.url, '/destroy', { ...proto, cookie: `${name}=${id}` });
      expect(destroyed.status, label).toBe(200);
      expect(destroyed.setCookie, label).toHaveLength(1);
      const ended = attributesOf(destroyed.setCookie[0] as string);
      expect(ended.pair, label).toBe(`${name}=`);
      const { 'max-age': endedMaxAge, expires, ...endedRest } = ended.attrs;
      expect(endedRest, label).toEqual(expected);
      expect(endedMaxAge, label).toBe('0');
      expect(new Date(expires as string).getTime(), label).toBe(0);
      expect(await manager.provider.read(id), label).toBeNull();
    }
  });
});
