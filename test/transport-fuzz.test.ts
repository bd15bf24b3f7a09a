import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIdSigner,
  createSessionManager,
  generateSid,
  type SessionManager,
  type SessionManagerBaseOptions,
} from '../src/index.js';
import { type Listening, listen, sessionApp } from './support/session-helpers.js';

// Random Cookie, header and query values — odd spellings, duplicates, forged signatures, huge values — sent
// over real HTTP. Whatever arrives: never a 5xx, and the session used is a live id the client presented (with
// that session's data) or a brand-new one; an id the store does not know is never adopted.

const SEED = Number(process.env.FC_SEED ?? 1127);
const LIVE = 4;
const SECRETS = ['k1', 'k0'];

interface Setup {
  readonly name: string;
  readonly options: SessionManagerBaseOptions;
}

const SETUPS: Setup[] = [
  { name: "unsigned, ['url', 'cookie', 'header']", options: { transports: ['url', 'cookie', 'header'] } },
  {
    name: "signed, ['header', 'url', 'cookie'], __Host-sid",
    options: { transports: ['header', 'url', 'cookie'], secrets: SECRETS, cookieName: '__Host-sid' },
  },
];

/** Bytes Node lets a client put in a header value. */
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\t', '\u00e9', '\u00ff', ';', '=', '"', ',', '%', ' '),
);

function tokens(live: readonly string[], dead: readonly string[], signed: boolean) {
  const sign = (sid: string, secret = SECRETS[1] as string) => createIdSigner(secret).sign(sid);
  const id = fc.oneof(fc.constantFrom(...live), fc.constantFrom(...dead));
  return fc.oneof(
    { weight: 4, arbitrary: id.map((sid) => (signed ? sign(sid) : sid)) },
    { weight: 2, arbitrary: id },
    id.map((sid) => sign(sid, 'wrong-secret')),
    id.map((sid) => `${signed ? sign(sid) : sid}x`),
    id.map((sid) => sid.slice(0, 42)),
    id.map((sid) =>
      encodeURIComponent(signed ? sign(sid) : sid).replace(
        /[A-Za-z]/g,
        (c) => `%${c.charCodeAt(0).toString(16)}`,
      ),
    ),
    id.map((sid) => `"${signed ? sign(sid) : sid}"`),
    id.map((sid) => ` ${signed ? sign(sid) : sid} `),
    fc.string({ unit: headerChar, maxLength: 60 }),
    fc.constant(''),
    fc.nat({ max: 12_000 }).map((n) => 'A'.repeat(n)),
    fc.constantFrom('%', '%E0%A4%A', '\u00ff\u00fe', 'undefined', 'null', '__proto__', 'constructor'),
  );
}

const cookieNames = (name: string) =>
  fc.constantFrom(name, name, name, name.toUpperCase(), ` ${name}`, `${name} `, 'other', '');
const separators = fc.constantFrom('; ', ';', ' ; ', ';;', '; ;');

function requests(
  cookieName: string,
  headerName: string,
  live: readonly string[],
  dead: readonly string[],
  signed: boolean,
) {
  const token = tokens(live, dead, signed);
  const pair = fc
    .tuple(cookieNames(cookieName), token)
    .map(([name, value]) => (name === '' ? value : `${name}=${value}`));
  const cookie = fc.option(
    fc.tuple(fc.array(pair, { maxLength: 6 }), separators).map(([pairs, sep]) => pairs.join(sep)),
    {
      nil: undefined,
    },
  );
  const header = fc.option(fc.oneof(token, fc.array(token, { minLength: 2, maxLength: 3 })), {
    nil: undefined,
  });
  const queryParam = fc
    .tuple(fc.constantFrom('sid', 'sid', 'SID', 'sid[]', 's%69d', 'sid+'), token, fc.boolean())
    .map(
      ([name, value, raw]) =>
        `${name}=${raw ? value.replace(/[^\u0021-\u007e]|[#&]/g, (c) => encodeURIComponent(c)) : encodeURIComponent(value)}`,
    );
  const query = fc.array(queryParam, { maxLength: 3 });
  const site = fc.constantFrom(undefined, 'same-origin', 'none', 'cross-site', 'same-site');
  return fc
    .record({ path: fc.constantFrom('/get?key=user', '/set?key=k&value=v'), cookie, header, query, site })
    .map((r) => ({
      ...r,
      headerName,
    }));
}

type Req = ReturnType<typeof requests> extends fc.Arbitrary<infer T> ? T : never;

/** `text` with its ASCII percent-escapes decoded (the others left as they are). */
function asciiDecoded(text: string): string {
  return text.replace(/%([0-7][0-9A-Fa-f])/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(base: string, r: Req): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  const path = r.query.length === 0 ? r.path : `${r.path}&${r.query.join('&')}`;
  const headers: Record<string, string | string[]> = {};
  if (r.cookie !== undefined) headers.cookie = r.cookie;
  if (r.header !== undefined) headers[r.headerName] = r.header;
  if (r.site !== undefined) headers['sec-fetch-site'] = r.site;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

for (const setup of SETUPS) {
  describe(`transport fuzzing: ${setup.name}`, () => {
    let server: Listening;
    let manager: SessionManager;
    const live: string[] = [];
    const dead = Array.from({ length: 3 }, () => generateSid());

    beforeAll(async () => {
      manager = createSessionManager({
        provider: 'memory',
        providerOptions: { gcIntervalMs: 0 },
        ...setup.options,
      });
      server = await listen(sessionApp(manager));
      const { encodeValue } = await import('../src/codec.js');
      for (let i = 0; i < LIVE; i++) {
        const sid = generateSid();
        await manager.provider.init(sid, manager.policy, { set: [['user', encodeValue(`user${i}`)]] });
        live.push(sid);
      }
    });

    afterAll(async () => {
      await server.close();
      await manager.close();
    });

    it('never answers 5xx, and uses a live id the client sent or a brand-new one', async () => {
      const cookieName = setup.options.cookieName ?? 'sid';
      const signed = setup.options.secrets !== undefined;
      const sign = (sid: string) => createIdSigner(SECRETS).sign(sid);
      await fc.assert(
        fc.asyncProperty(requests(cookieName, 'x-session-id', live, dead, signed), async (r) => {
          const { status, body } = await send(server.url, r);
          expect(status).toBeLessThan(500);
          if (status !== 200) return; // 400/431 from node:http for what it refuses to parse
          const answer = JSON.parse(body) as { id: string; isNew?: boolean; value?: string | null };
          // Every form the client sent an id in, percent-decoded (ids are ASCII) as the cookie and query are.
          const sent = [r.cookie ?? '', ...[r.header ?? []].flat(), ...r.query].join(' ');
          const presented = `${sent} ${asciiDecoded(sent)}`;
          const index = live.indexOf(answer.id);
          const notFromUrl = `${r.cookie ?? ''} ${asciiDecoded(r.cookie ?? '')} ${[r.header ?? []].flat().join(' ')}`;
          // A live cookie wins over the URL (no fixation by link): with one sent plainly and no header, the
          // session used is one the Cookie header names.
          const plainLiveCookie = live.some((sid) =>
            (r.cookie ?? '').split(/; ?/).includes(`${cookieName}=${signed ? sign(sid) : sid}`),
          );
          if (plainLiveCookie && r.header === undefined) {
            expect(index).toBeGreaterThanOrEqual(0);
            expect(notFromUrl).toContain(answer.id);
          }
          // From another site, the URL's id is not read at all.
          if (index >= 0 && (r.site === 'cross-site' || r.site === 'same-site'))
            expect(notFromUrl).toContain(answer.id);
          if (index >= 0) {
            expect(presented).toContain(answer.id);
            if (answer.value !== undefined) expect(answer.value).toBe(`user${index}`);
            if (answer.isNew !== undefined) expect(answer.isNew).toBe(false);
          } else {
            // A brand-new id: not one the client sent, not a dead one, not anyone else's.
            expect(dead).not.toContain(answer.id);
            expect(presented).not.toContain(answer.id);
            if (answer.isNew !== undefined) expect(answer.isNew).toBe(true);
          }
        }),
        { seed: SEED, numRuns: 400 },
      );
    });
  });
}

afterAll(() => agent.destroy());
