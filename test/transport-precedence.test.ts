import { afterEach, describe, expect, it } from 'vitest';
import {
  createIdSigner,
  createSessionManager,
  generateSid,
  type SessionManager,
  type SessionManagerBaseOptions,
} from '../src/index.js';
import { type Listening, listen, sessionApp } from './support/session-helpers.js';

// Which id a request uses when it carries several: a live cookie wins over an id in the URL (session fixation,
// forced logout), an id in the URL of a cross-site navigation is ignored, and of several cookies of one name
// (cookie tossing from a sibling subdomain) the first live one is used.

let server: Listening | undefined;
let manager: SessionManager | undefined;

afterEach(async () => {
  await server?.close();
  await manager?.close();
  server = undefined;
  manager = undefined;
});

async function start(options: SessionManagerBaseOptions = {}) {
  const m = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 }, ...options });
  manager = m;
  server = await listen(sessionApp(m));
  return server.url;
}

/** Makes a session holding user=`name` and returns its id (as the client sees it, with its cookie line). */
async function sessionOf(url: string, name: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/set?key=user&value=${name}`, { headers });
  const { id } = (await response.json()) as { id: string };
  return { id, setCookie: response.headers.getSetCookie() };
}

async function get(url: string, path: string, headers: Record<string, string>) {
  const response = await fetch(`${url}${path}`, { headers });
  const body = (await response.json()) as { id: string; value: string | null };
  return { ...body, setCookie: response.headers.getSetCookie(), headers: response.headers };
}

describe("transports ['url', 'cookie']: a live cookie wins", () => {
  it('a link carrying someone else’s id does not replace the victim’s live cookie (fixation)', async () => {
    const url = await start({ transports: ['url', 'cookie'] });
    const victim = await sessionOf(url, 'victim');
    const attacker = await sessionOf(url, 'attacker');
    const seen = await get(url, `/get?key=user&sid=${attacker.id}`, { cookie: `sid=${victim.id}` });
    expect(seen.value).toBe('victim');
    expect(seen.id).toBe(victim.id);
    // And a write through that link lands in the victim's own session, with no new cookie.
    const wrote = await get(url, `/set?key=note&value=x&sid=${attacker.id}`, { cookie: `sid=${victim.id}` });
    expect(wrote.id).toBe(victim.id);
    expect(wrote.setCookie).toEqual([]);
  });

  it('a link carrying a dead id does not overwrite the victim’s live cookie (forced logout)', async () => {
    const url = await start({ transports: ['url', 'cookie'] });
    const victim = await sessionOf(url, 'victim');
    const dead = generateSid();
    const wrote = await get(url, `/set?key=note&value=x&sid=${dead}`, { cookie: `sid=${victim.id}` });
    expect(wrote.id).toBe(victim.id);
    expect(wrote.setCookie).toEqual([]);
    expect((await get(url, '/get?key=user', { cookie: `sid=${victim.id}` })).value).toBe('victim');
  });

  it('the id in the URL still works for a client without a (live) cookie', async () => {
    const url = await start({ transports: ['url', 'cookie'] });
    const owner = await sessionOf(url, 'ann');
    expect((await get(url, `/get?key=user&sid=${owner.id}`, {})).value).toBe('ann');
    const deadCookie = { cookie: `sid=${generateSid()}`, 'sec-fetch-site': 'same-origin' };
    expect((await get(url, `/get?key=user&sid=${owner.id}`, deadCookie)).value).toBe('ann');
  });

  it('ignores the id in the URL on a cross-site (or same-site) navigation, or an unknown Sec-Fetch-Site', async () => {
    const url = await start({ transports: ['url', 'cookie'] });
    const owner = await sessionOf(url, 'ann');
    // Browsers send one lower-case token: any other spelling, a repeat or an unknown token is not believed.
    for (const site of [
      'cross-site',
      'same-site',
      'Cross-Site',
      'NONE',
      'same-origin, same-origin',
      'bogus',
      '',
    ]) {
      const seen = await get(url, `/get?key=user&sid=${owner.id}`, { 'sec-fetch-site': site });
      expect(seen.value, site).toBeNull();
      expect(seen.id, site).not.toBe(owner.id);
    }
    for (const site of ['same-origin', 'none']) {
      expect((await get(url, `/get?key=user&sid=${owner.id}`, { 'sec-fetch-site': site })).value, site).toBe(
        'ann',
      );
    }
  });

  it('manager.destroy() without start ends the session start would have used, not the one in the link', async () => {
    const m = createSessionManager({ provider: 'memory', transports: ['url', 'cookie'] });
    manager = m;
    server = await listen(async (req, res) => {
      await m.destroy(req, res);
      res.end('bye');
    });
    const a = generateSid();
    const b = generateSid();
    await m.provider.init(a, m.policy, {});
    await m.provider.init(b, m.policy, {});
    await fetch(`${server.url}/logout?sid=${b}`, { headers: { cookie: `sid=${a}` } });
    expect(await m.provider.read(a)).toBeNull();
    expect(await m.provider.read(b)).not.toBeNull();
  });

  it('sends Referrer-Policy: no-referrer while the URL transport is on, and only then', async () => {
    const withUrl = await start({ transports: ['url', 'cookie'] });
    expect((await fetch(`${withUrl}/nothing`)).headers.get('referrer-policy')).toBe('no-referrer');
    await server?.close();
    await manager?.close();
    const cookieOnly = await start();
    expect((await fetch(`${cookieOnly}/nothing`)).headers.get('referrer-policy')).toBeNull();
  });
});

describe('several cookies of the same name (cookie tossing)', () => {
  it('uses the first live one, whatever comes before it', async () => {
    const url = await start();
    const ann = await sessionOf(url, 'ann');
    const dead = generateSid();
    for (const cookie of [
      `sid=garbage; sid=${ann.id}`,
      `sid=${dead}; sid=${ann.id}`,
      `other=1; sid=; sid="${dead}"; sid=${ann.id}; sid=${generateSid()}`,
      `sid=${ann.id.slice(0, 20)}%; sid=${ann.id}`,
    ]) {
      const seen = await get(url, '/get?key=user', { cookie });
      expect(seen.value, cookie).toBe('ann');
      // The session is the live one under its own id, not the first id sent with the live one's data.
      expect(seen.id, cookie).toBe(ann.id);
      expect(seen.setCookie, cookie).toEqual([]);
    }
  });

  it('prefers the first of two live ones (the most specific path comes first)', async () => {
    const url = await start();
    const ann = await sessionOf(url, 'ann');
    const bob = await sessionOf(url, 'bob');
    expect((await get(url, '/get?key=user', { cookie: `sid=${ann.id}; sid=${bob.id}` })).value).toBe('ann');
    expect((await get(url, '/get?key=user', { cookie: `sid=${bob.id}; sid=${ann.id}` })).value).toBe('bob');
  });

  it('checks each value’s signature', async () => {
    const url = await start({ secrets: ['s'] });
    const ann = await sessionOf(url, 'ann');
    const signed = createIdSigner('s').sign(ann.id);
    const forged = createIdSigner('other').sign(ann.id);
    const cookie = `sid=${encodeURIComponent(forged)}; sid=${encodeURIComponent(signed)}`;
    expect((await get(url, '/get?key=user', { cookie })).value).toBe('ann');
  });

  it('an unknown id among them is never adopted: a fresh id is made', async () => {
    const url = await start();
    const a = generateSid();
    const b = generateSid();
    const wrote = await get(url, '/set?key=user&value=eve', { cookie: `sid=${a}; sid=${b}` });
    expect([a, b]).not.toContain(wrote.id);
    expect(wrote.setCookie.join()).toContain(wrote.id);
  });
});

describe('the cost of reading the id', () => {
  it('one cookie is one store read; a hundred of the same name are at most 8, in one round', async () => {
    const inner = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    const reads: string[] = [];
    const p = inner.provider;
    const provider: typeof p = {
      init: (...a) => p.init(...a),
      read: (sid) => {
        reads.push(sid);
        return p.read(sid);
      },
      commit: (...a) => p.commit(...a),
      incr: (...a) => p.incr(...a),
      rename: (...a) => p.rename(...a),
      destroy: (...a) => p.destroy(...a),
      gc: (...a) => p.gc(...a),
      count: () => p.count(),
      stats: () => p.stats(),
      close: () => p.close(),
    };
    const m = createSessionManager({ provider });
    manager = m;
    server = await listen(sessionApp(m));
    const live = generateSid();
    await provider.init(live, m.policy, {});
    await fetch(`${server.url}/nothing`, { headers: { cookie: `a=1; sid=${live}; b=2` } });
    expect(reads).toEqual([live]);
    reads.length = 0;
    const many = Array.from({ length: 100 }, () => `sid=${generateSid()}`).join('; ');
    const seen = await get(server.url, '/get', { cookie: many });
    expect(reads.length).toBe(8);
    expect(seen.id).not.toBe(live);
  });
});

describe('a slid deadline refreshes only the cookie the client sent', () => {
  // The deadline slides noticeably after a tenth of the idle timeout: from then on a request's response would
  // carry a refreshed cookie. An id that came in a link or a header must not become this browser's cookie
  // (someone else's link would pin their session here, and a live cookie then wins over every later link).
  const link = (id: string) => `/get?key=user&sid=${id}`;
  for (const [transports, how, path, headers] of [
    [['url', 'cookie'], 'a link', link, () => ({})],
    // A dead cookie of the name beside the link: still not the id that is refreshed.
    [['url', 'cookie'], 'a link, a dead cookie beside it', link, () => ({ cookie: `sid=${generateSid()}` })],
    [['header', 'cookie'], 'a header', () => '/get?key=user', (id: string) => ({ 'x-session-id': id })],
  ] as const) {
    it(`${transports.join(' + ')}: an id that came in ${how} gets no Set-Cookie; in the cookie, a new Max-Age`, async () => {
      let clock = Date.now();
      const url = await start({ transports: [...transports], idleTimeout: '60s', now: () => clock });
      const { id } = await sessionOf(url, 'owner');
      clock += 7_000;
      const elsewhere = await get(url, path(id), headers(id));
      expect(elsewhere).toMatchObject({ id, value: 'owner' });
      expect(elsewhere.setCookie).toEqual([]);
      clock += 7_000;
      const byCookie = await get(url, '/get?key=user', { cookie: `sid=${id}` });
      expect(byCookie).toMatchObject({ id, value: 'owner' });
      expect(byCookie.setCookie).toEqual([expect.stringMatching(new RegExp(`^sid=${id}; Max-Age=60;`))]);
    });
  }
});
