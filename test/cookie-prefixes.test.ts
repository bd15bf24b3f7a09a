import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSessionManager,
  InvalidOptionError,
  type SessionManager,
  type SessionManagerBaseOptions,
} from '../src/index.js';
import { type Listening, listen, sessionApp } from './support/session-helpers.js';

let servers: Listening[] = [];
let managers: SessionManager[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers) await server.close();
  for (const manager of managers) await manager.close();
  servers = [];
  managers = [];
});

async function start(options: SessionManagerBaseOptions = {}) {
  const manager = createSessionManager({
    provider: 'memory',
    providerOptions: { gcIntervalMs: 0 },
    ...options,
  });
  managers.push(manager);
  const server = await listen(sessionApp(manager));
  servers.push(server);
  return server.url;
}

const make = (options: SessionManagerBaseOptions) => () =>
  createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 }, ...options });

describe('__Host- and __Secure- cookie names', () => {
  it('refuses, at construction, options that break the prefix rules', () => {
    const broken: [string, SessionManagerBaseOptions][] = [
      ['__Host- without Secure', { cookieName: '__Host-sid', cookie: { secure: false } }],
      ['__Host- on a sub-path', { cookieName: '__Host-sid', cookie: { path: '/app' } }],
      ['__Host- with a Domain', { cookieName: '__Host-sid', cookie: { domain: 'example.com' } }],
      ['__Secure- without Secure', { cookieName: '__Secure-sid', cookie: { secure: false } }],
      [
        '__host- in lower case (browsers match the prefix in any case)',
        { cookieName: '__host-sid', cookie: { secure: false } },
      ],
      ['__SECURE- in upper case', { cookieName: '__SECURE-sid', cookie: { secure: false } }],
    ];
    for (const [what, options] of broken) {
      expect(make(options), what).toThrow(InvalidOptionError);
    }
    expect(make({ cookieName: '__Host-sid', cookie: { path: '/app' } })).toThrow(/__Host-.*path/);
    expect(make({ cookieName: '__Secure-sid', cookie: { secure: false } })).toThrow(/__Secure-.*secure/);
  });

  it('accepts what the rules allow', () => {
    const fine: SessionManagerBaseOptions[] = [
      { cookieName: '__Host-sid' },
      { cookieName: '__Host-sid', cookie: { secure: true, path: '/' } },
      { cookieName: '__Secure-sid', cookie: { domain: 'example.com', path: '/app' } },
      { cookieName: '__Secure-sid', cookie: { secure: 'auto' } },
    ];
    for (const options of fine) managers.push(make(options)());
  });

  it("writes them Secure (with 'auto' too: a browser drops a prefixed cookie without it), and reads them back", async () => {
    for (const cookieName of ['__Host-sid', '__Secure-sid']) {
      const url = await start({ cookieName });
      const created = await fetch(`${url}/set?key=user&value=ann`);
      const [line] = created.headers.getSetCookie();
      expect(line, cookieName).toMatch(new RegExp(`^${cookieName}=`));
      expect(line, cookieName).toMatch(/; Secure/);
      expect(line, cookieName).toMatch(/; Path=\//);
      expect(line, cookieName).not.toMatch(/Domain=/);
      const cookie = (line as string).split(';')[0] as string;
      const read = (await (await fetch(`${url}/get?key=user`, { headers: { cookie } })).json()) as {
        value: string;
      };
      expect(read.value, cookieName).toBe('ann');
    }
  });
});

describe("sameSite: 'none'", () => {
  it("writes the cookie Secure with 'auto' too (browsers reject SameSite=None without it), and reads it back", async () => {
    const url = await start({ cookie: { sameSite: 'none' } });
    const created = await fetch(`${url}/set?key=user&value=ann`);
    const [line] = created.headers.getSetCookie();
    expect(line).toMatch(/; Secure/);
    expect(line).toMatch(/; SameSite=None/);
    const cookie = (line as string).split(';')[0] as string;
    const read = (await (await fetch(`${url}/get?key=user`, { headers: { cookie } })).json()) as {
      value: string;
    };
    expect(read.value).toBe('ann');
    // The other SameSite values keep 'auto': plain HTTP, no Secure.
    const lax = await start({ cookie: { sameSite: 'strict' } });
    const [plain] = (await fetch(`${lax}/set?key=user&value=ann`)).headers.getSetCookie();
    expect(plain).not.toMatch(/Secure/);
  });
});

describe("Secure 'auto' behind a TLS proxy that is not trusted", () => {
  const warningsOf = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls.filter(
      (call: unknown[]) =>
        (call[1] as { code?: string } | undefined)?.code === 'SHARD_SESSION_UNTRUSTED_FORWARDED_PROTO',
    );

  it('warns once per manager (not per request) when X-Forwarded-Proto: https arrives untrusted', async () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const first = await start();
    const second = await start();
    const https = { 'x-forwarded-proto': 'https' };
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${first}/set?value=${i}`, { headers: https });
      expect(response.headers.getSetCookie()[0]).not.toMatch(/Secure/);
    }
    expect(warningsOf(spy)).toHaveLength(1);
    const [message, options] = warningsOf(spy)[0] as [string, { type: string; code: string }];
    expect(message).toBe(
      'the session cookie "sid" goes out without Secure: a request says X-Forwarded-Proto: https, but ' +
        "trustProxy is false, so Secure 'auto' sees plain HTTP. Behind a TLS-terminating proxy, set " +
        'trustProxy: true (or cookie.secure: true).',
    );
    expect(message).not.toMatch(/[A-Za-z0-9_-]{43}/); // never an id
    expect(options.type).toBe('SessionSecurityWarning');
    await fetch(`${second}/set?value=1`, { headers: https });
    await fetch(`${second}/set?value=2`, { headers: https });
    expect(warningsOf(spy)).toHaveLength(2);
  });

  it('does not warn without the header, with trustProxy, or with an explicit secure', async () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const plain = await start();
    await fetch(`${plain}/set?value=1`);
    await fetch(`${plain}/set?value=1`, { headers: { 'x-forwarded-proto': 'http' } });
    const trusted = await start({ trustProxy: true });
    const response = await fetch(`${trusted}/set?value=1`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(response.headers.getSetCookie()[0]).toMatch(/; Secure/);
    const explicit = await start({ cookie: { secure: false } });
    await fetch(`${explicit}/set?value=1`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(warningsOf(spy)).toHaveLength(0);
  });
});
