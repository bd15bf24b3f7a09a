import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addSessionParam,
  createSessionManager,
  InvalidOptionError,
  rewriteLinks,
  type SessionManager,
  type SessionManagerBaseOptions,
} from '../src/index.js';
import { beforeHeaders, type HeaderSink } from '../src/transport/before-headers.js';
import { isSecureRequest, readCookie } from '../src/transport/cookie.js';
import { createHeaderTransport } from '../src/transport/header.js';
import { createUrlTransport } from '../src/transport/url.js';
import { mergeVary } from '../src/transport/vary.js';
import { type Listening, listen } from './support/session-helpers.js';

// The transport helpers one by one, at the edges a mutation review found untested (issue 16): the options'
// messages, Vary merging, headers passed to writeHead, the URL parameter's parsing, Secure detection.

const request = (fields: Partial<IncomingMessage>) => fields as IncomingMessage;

describe('transport options are refused by name, with what was wrong', () => {
  const cases: [SessionManagerBaseOptions, RegExp][] = [
    [{ cookieName: 'bad name' }, /cookieName must be a cookie-name token, got bad name/],
    [{ cookieName: 5 as never }, /cookieName must be a cookie-name token, got 5/],
    [{ cookie: null as never }, /^cookie must be an object$/],
    [{ cookie: 'lax' as never }, /^cookie must be an object$/],
    [
      { cookie: { maxAge: 5 } as never },
      /unknown option cookie\.maxAge \(known: path, domain, secure, sameSite/,
    ],
    [{ cookie: { secure: 'yes' as never } }, /cookie\.secure must be 'auto', true or false/],
    [
      { cookie: { sameSite: 'sideways' as never } },
      /cookie\.sameSite must be 'lax', 'strict', 'none' or false/,
    ],
    [{ cookie: { sameSite: 'none', secure: false } }, /cookie\.sameSite 'none' needs a Secure cookie/],
    [{ cookie: { httpOnly: 'yes' as never } }, /cookie\.httpOnly must be a boolean/],
    [{ cookie: { partitioned: 1 as never } }, /cookie\.partitioned must be a boolean/],
    [{ cookie: { persistent: 'yes' as never } }, /cookie\.persistent must be a boolean/],
    [{ cookie: { path: 'relative' } }, /cookie\.path must start with '\/'/],
    [{ cookie: { path: 5 as never } }, /cookie\.path must start with '\/'/],
    [{ cookie: { domain: '' } }, /cookie\.domain must be a non-empty string/],
    [{ cookie: { domain: 5 as never } }, /cookie\.domain must be a non-empty string/],
    [
      { cookie: { domain: 'exa;mple.com' } },
      /cookie\.domain "exa;mple\.com" is not a valid cookie attribute \(RFC 6265\)/,
    ],
    [{ cookie: { path: '/a;b' } }, /cookie\.path "\/a;b" is not a valid cookie attribute \(RFC 6265\)/],
    [{ headerName: 'x session' }, /headerName must be a header-name token, got x session/],
    [{ headerName: 5 as never }, /headerName must be a header-name token, got 5/],
    [{ urlParam: '' }, /urlParam must be a non-empty name of unreserved URL characters/],
    [{ urlParam: 5 as never }, /urlParam must be a non-empty name of unreserved URL characters/],
    [{ trustProxy: 'yes' as never }, /trustProxy must be a boolean/],
    [
      { transports: ['cookie', 'pigeon' as never] },
      /transports must be a non-empty list of distinct names among 'cookie', 'header' and 'url'/,
    ],
  ];
  for (const [options, message] of cases) {
    it(JSON.stringify(options), () => {
      const make = () => createSessionManager({ provider: 'memory', ...options });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(message);
    });
  }
});

describe('mergeVary', () => {
  it('adds the field once, keeps what is listed, and respects *', () => {
    expect(mergeVary(undefined, 'Cookie')).toBe('Cookie');
    expect(mergeVary('', 'Cookie')).toBe('Cookie');
    expect(mergeVary('   ', 'Cookie')).toBe('Cookie');
    expect(mergeVary('Accept-Encoding', 'Cookie')).toBe('Accept-Encoding, Cookie');
    expect(mergeVary(['Accept', 'Origin'], 'Cookie')).toBe('Accept, Origin, Cookie');
    expect(mergeVary('accept, COOKIE', 'Cookie')).toBe('accept, COOKIE');
    expect(mergeVary('accept,cookie ', 'Cookie')).toBe('accept,cookie ');
    expect(mergeVary('Accept , Cookie', 'x-session-id')).toBe('Accept , Cookie, x-session-id');
    expect(mergeVary('cookie', 'Cookie')).toBe('cookie');
    expect(mergeVary('Cookie,,', 'Cookie')).toBe('Cookie,,');
    expect(mergeVary('*', 'Cookie')).toBe('*');
    expect(mergeVary('Accept, *', 'Cookie')).toBe('Accept, *');
  });
});

describe('isSecureRequest', () => {
  it('believes TLS, and X-Forwarded-Proto only from a trusted proxy', () => {
    expect(isSecureRequest(request({ socket: { encrypted: true } as never, headers: {} }), false)).toBe(true);
    expect(isSecureRequest(request({ socket: {} as never, headers: {} }), true)).toBe(false);
    expect(isSecureRequest(request({ socket: undefined as never, headers: {} }), false)).toBe(false);
    const via = (proto: string | string[], trust = true) =>
      isSecureRequest(
        request({ socket: {} as never, headers: { 'x-forwarded-proto': proto as never } }),
        trust,
      );
    expect(via('https')).toBe(true);
    expect(via('https', false)).toBe(false);
    expect(via('HTTPS')).toBe(true);
    expect(via(' https , http')).toBe(true);
    expect(via('http, https')).toBe(false);
    expect(via(['https', 'http'])).toBe(true);
    expect(via(['http', 'https'])).toBe(false);
  });
});

describe('header transport', () => {
  it('reads the trimmed value of one header, and writes only a new or changed live id', () => {
    const transport = createHeaderTransport('X-Api-Session');
    expect(transport.read(request({ headers: { 'x-api-session': ' abc ' } }))).toBe('abc');
    expect(transport.read(request({ headers: { 'x-api-session': '' } }))).toBeUndefined();
    expect(transport.read(request({ headers: {} }))).toBeUndefined();
    const written: [string, string][] = [];
    const vary: string[] = [];
    const sink = {
      appendSetCookie: () => {},
      setHeader: (name: string, value: string) => written.push([name, value]),
      addVary: (field: string) => vary.push(field),
    };
    const req = request({ headers: {} });
    // Even a client that sent the id by header gets no header back for a slid deadline.
    const carries = () => true;
    transport.write(sink, req, { kind: 'none' }, carries);
    transport.write(sink, req, { kind: 'ended' }, carries);
    transport.write(
      sink,
      req,
      { kind: 'live', value: 'v1', changed: false, rolled: true, expiresInMs: 1 },
      carries,
    );
    expect(written).toEqual([]);
    transport.write(
      sink,
      req,
      { kind: 'live', value: 'v2', changed: true, rolled: false, expiresInMs: 1 },
      carries,
    );
    expect(written).toEqual([['x-api-session', 'v2']]);
    expect(vary).toEqual(Array(4).fill('x-api-session'));
  });
});

describe('URL transport', () => {
  it('reads one non-empty query parameter, before any fragment, and nothing else', () => {
    const read = (url: unknown, param = 'sid') =>
      createUrlTransport(param).read(request({ url: url as string, headers: {} }));
    expect(read('/p?sid=abc')).toBe('abc');
    expect(read('/p?a=1&sid=abc&b=2')).toBe('abc');
    expect(read('/p?sid=abc#frag')).toBe('abc');
    expect(read('/p?x=1#sid=abc')).toBeUndefined();
    expect(read('/p#?sid=abc')).toBeUndefined(); // a '?' inside the fragment is no query
    expect(read('/p#frag?sid=abc')).toBeUndefined();
    expect(read('?sid=abc')).toBe('abc');
    expect(read('sid=abc')).toBeUndefined(); // no query at all
    expect(read('/p?sid=abc&sid=abc')).toBeUndefined(); // repeated: ambiguous
    expect(read('/p?sid=')).toBeUndefined();
    expect(read('/p?token=abc', 'token')).toBe('abc');
    expect(read('/p?sid=abc', 'token')).toBeUndefined();
    expect(read(undefined)).toBeUndefined();
  });

  it('adds the parameter to local links, including query-only and colon-bearing ones', () => {
    expect(addSessionParam('?a=1', 'sid', 'X')).toBe('?a=1&sid=X');
    // The link's own query is kept as written (issue 12): only the id is appended.
    expect(addSessionParam('/search?q=a:b', 'sid', 'X')).toBe('/search?q=a:b&sid=X');
    expect(addSessionParam('page?x=1#frag', 'sid', 'X')).toBe('page?x=1&sid=X#frag');
  });

  it('rewrites HTML attributes with entities decoded and re-escaped', () => {
    expect(rewriteLinks('<a href="/a?x=1&amp;y=2">a</a>', 'sid', 'X')).toBe(
      '<a href="/a?x=1&amp;y=2&amp;sid=X">a</a>',
    );
    expect(rewriteLinks(`<a href='/a"b'>a</a>`, 'sid', 'X')).toBe(`<a href='/a&quot;b?sid=X'>a</a>`);
    expect(rewriteLinks('<a href="https://x.example/?a=1&amp;b=2">a</a>', 'sid', 'X')).toBe(
      '<a href="https://x.example/?a=1&amp;b=2">a</a>',
    );
  });
});

describe('readCookie: every cookie of the name, each read as the cookie package reads one', () => {
  const read = (cookie: string) => readCookie({ headers: { cookie } } as IncomingMessage, 'sid');

  it('gives the values of a repeated name in order: percent-decoded, trimmed, quotes kept', () => {
    expect(read('sid=a; sid=b')).toEqual(['a', 'b']);
    // Quotes are part of the value, as the cookie package reads a lone one: a quoted id is not the id set.
    expect(read('sid="a"')).toBe('"a"');
    expect(read('sid="a"; sid=b')).toEqual(['"a"', 'b']);
    expect(read('sid=""; sid=b')).toEqual(['""', 'b']);
    expect(read('sid="; sid=b')).toEqual(['"', 'b']);
    expect(read('sid="a; sid=b"')).toEqual(['"a', 'b"']);
    expect(read('sid=%41; sid=b')).toEqual(['A', 'b']);
    expect(read('sid=%zz; sid=b')).toEqual(['%zz', 'b']);
    expect(read(' sid = a ; sid=b')).toEqual(['a', 'b']);
    expect(read('sid=a=b; sid=c')).toEqual(['a=b', 'c']);
  });

  it('skips pairs without a name of its own: no "=", an empty name, a longer name that contains it', () => {
    expect(read('x; sid=a; sid=b')).toEqual(['a', 'b']);
    expect(read('sid=a; sidx; sid=b')).toEqual(['a', 'b']);
    expect(read('=sid; sid=a; sid=b')).toEqual(['a', 'b']);
    expect(read('xsid=1; sid=a; sid=b')).toEqual(['a', 'b']);
    // The name appears twice in the header, but only one cookie has it: one value, as a string.
    expect(read('sid=a; xsid=1')).toBe('a');
    expect(read('sid=a; sid')).toBe('a');
    expect(read('sidx=1; sidy=2')).toBeUndefined();
  });
});

describe('beforeHeaders', () => {
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** Serves `respond` after hooking a hook that adds a session-like cookie and Vary; resolves the answer. */
  async function answer(respond: (res: ServerResponse) => void, hooks = 1) {
    const results: boolean[] = [];
    server = await listen((_req, res) => {
      for (let i = 0; i < hooks; i++) {
        results.push(
          beforeHeaders(res, (sink) => {
            sink.appendSetCookie(`s${i}=1`);
            sink.addVary('Cookie');
          }),
        );
      }
      try {
        respond(res);
      } catch {
        res.destroy(); // a hook that threw: the fetch fails at once rather than at the test's timeout
      }
      results.push(beforeHeaders(res, () => {}));
    });
    const response = await fetch(server.url);
    await response.text();
    return { response, results };
  }

  it('runs every hook once, and says false when the headers are already out', async () => {
    const { response, results } = await answer((res) => res.end('ok'), 2);
    expect(results).toEqual([true, true, false]);
    expect(response.headers.getSetCookie()).toEqual(['s0=1', 's1=1']);
    expect(response.headers.get('vary')).toBe('Cookie');
  });

  it('merges with Set-Cookie and Vary passed to writeHead(status, reason, headers)', async () => {
    const { response } = await answer((res) => {
      res.writeHead(200, 'Fine', { 'set-cookie': 'app=1', vary: 'Accept' });
      res.end();
    });
    expect(response.statusText).toBe('Fine');
    expect(response.headers.getSetCookie()).toEqual(['app=1', 's0=1']);
    expect(response.headers.get('vary')).toBe('Accept, Cookie');
  });

  it('merges with the Set-Cookie and Vary pairs of a raw header array passed to writeHead', async () => {
    // Node 20 sets an array's pairs one after the other once setHeader was used: duplicate pairs would
    // leave only the last Set-Cookie, and the app's Vary pair would replace ours.
    const { response } = await answer((res) => {
      res.setHeader('X-Before', '1');
      res.writeHead(200, [
        'Set-Cookie',
        'app=1',
        'X-Other',
        'set-cookie',
        'set-cookie',
        ['app=2'],
        'Vary',
        'Accept',
      ]);
      res.end();
    });
    expect(response.headers.getSetCookie()).toEqual(['app=1', 'app=2', 's0=1']);
    expect(response.headers.get('x-other')).toBe('set-cookie');
    expect(response.headers.get('vary')).toBe('Accept, Cookie');
  });

  it('merges with a raw header array when nothing was set with setHeader before (the array is sent as it is)', async () => {
    const { response } = await answer((res) => {
      res.writeHead(200, ['Set-Cookie', 'app=1', 'Vary', 'Accept', 'X-Other', '1']);
      res.end();
    });
    expect(response.headers.getSetCookie()).toEqual(['app=1', 's0=1']);
    expect(response.headers.get('vary')).toBe('Accept, Cookie');
    expect(response.headers.get('x-other')).toBe('1');
  });

  it('adds Set-Cookie and Vary to a raw header array that has neither', async () => {
    const { response } = await answer((res) => {
      res.writeHead(200, ['X-Other', '1']);
      res.end();
    });
    expect(response.headers.getSetCookie()).toEqual(['s0=1']);
    expect(response.headers.get('vary')).toBe('Cookie');
    expect(response.headers.get('x-other')).toBe('1');
  });

  it('adds its own Set-Cookie next to those set with setHeader, without appendHeader (HTTP/2 compat)', async () => {
    const { response } = await answer((res) => {
      Object.defineProperty(res, 'appendHeader', { value: undefined });
      res.setHeader('Set-Cookie', 'app=1');
      res.setHeader('Vary', 'Origin');
      res.writeHead(200, { 'x-no-cookie': '1' });
      res.end();
    });
    expect(response.headers.getSetCookie()).toEqual(['app=1', 's0=1']);
    expect(response.headers.get('vary')).toBe('Origin, Cookie');
  });

  it('adds its own Set-Cookie alone when writeHead has a Set-Cookie key without a value, or nothing was set (HTTP/2 compat)', async () => {
    const { response } = await answer((res) => {
      res.writeHead(200, { 'Set-Cookie': undefined, 'x-app': '1' });
      res.end();
    });
    expect(response.headers.getSetCookie()).toEqual(['s0=1']);
    const compat = await answer((res) => {
      Object.defineProperty(res, 'appendHeader', { value: undefined });
      res.end();
    });
    expect(compat.response.headers.getSetCookie()).toEqual(['s0=1']);
  });

  it('takes writeHead(status, null) as no headers (plain JavaScript callers pass it)', async () => {
    const { response } = await answer((res) => {
      res.writeHead(204, null as never);
      res.end();
    });
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()).toEqual(['s0=1']);
    expect(response.headers.get('vary')).toBe('Cookie');
  });

  it('after a writeHead that threw (a bad status), the error answer goes out and the hook ran once', async () => {
    const ran: string[] = [];
    let failure: unknown;
    server = await listen((_req, res) => {
      beforeHeaders(res, (sink) => {
        ran.push('hook');
        sink.appendSetCookie('s=1');
      });
      expect(() => res.writeHead(1000)).toThrow();
      res.statusCode = 500;
      try {
        res.end();
      } catch (error) {
        failure = error;
        res.destroy();
      }
    });
    const response = await fetch(server.url);
    await response.text();
    expect(failure).toBeUndefined();
    expect(response.status).toBe(500);
    expect(ran).toEqual(['hook']);
  });

  it('runs a hook added after a writeHead that threw (a bad status) when the error answer starts the response', async () => {
    const ran: string[] = [];
    let failure: unknown;
    server = await listen((_req, res) => {
      beforeHeaders(res, () => ran.push('first'));
      expect(() => res.writeHead(1000)).toThrow();
      // The hooks ran and are gone, the headers are not out: a hook added now (an error handler that starts a
      // session) runs with the error answer.
      expect(beforeHeaders(res, (sink) => sink.appendSetCookie('late=1'))).toBe(true);
      res.statusCode = 500;
      try {
        res.end();
      } catch (error) {
        failure = error;
        res.destroy();
      }
    });
    const response = await fetch(server.url);
    await response.text();
    expect(failure).toBeUndefined();
    expect(ran).toEqual(['first']);
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual(['late=1']);
  });

  it('runs object hooks and hooks added after a framework wrapped writeHead, each once, in order', async () => {
    const ran: string[] = [];
    const hook = (name: string, cookie: string) => (sink: HeaderSink) => {
      ran.push(name);
      sink.appendSetCookie(cookie);
    };
    server = await listen((_req, res) => {
      beforeHeaders(res, { beforeHeaders: hook('first', 'a=1') });
      // A framework wraps writeHead after us (as on-headers does): the next hook joins the same run.
      const wrapped = res.writeHead;
      res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
        ran.push('framework');
        return (wrapped as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as typeof res.writeHead;
      beforeHeaders(res, hook('second', 'b=1'));
      beforeHeaders(res, { beforeHeaders: hook('third', 'c=1') });
      res.end('ok');
    });
    const response = await fetch(server.url);
    await response.text();
    expect(ran).toEqual(['framework', 'first', 'second', 'third']);
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=1', 'c=1']);
  });
});

describe('ids the client sends', () => {
  let manager: SessionManager | undefined;
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    await manager?.close();
  });

  it('without secrets, a value that is not an id starts a new session instead of reaching the store', async () => {
    manager = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    const m = manager;
    server = await listen((req, res) => {
      m.start(req, res).then(
        (session) => res.end(JSON.stringify({ isNew: session.isNew })),
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    });
    for (const value of ['not-an-id', 'A'.repeat(42), `${'A'.repeat(42)}B`, 'A'.repeat(200)]) {
      const response = await fetch(server.url, { headers: { cookie: `sid=${value}` } });
      expect(response.status, value).toBe(200);
      expect(await response.json()).toEqual({ isNew: true });
    }
  });
});
