import { describe, expect, it } from 'vitest';
import { createSessionManager, InvalidOptionError, type SessionManagerBaseOptions } from '../src/index.js';

// Every option of how the id travels is checked at construction: a bad one is an InvalidOptionError that
// names it, never a 500 on every request later or a cookie every browser silently drops.

const build = (options: SessionManagerBaseOptions) => () =>
  createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 }, ...options });

// [option as the message names it, options]
const BAD: [RegExp, unknown][] = [
  [/cookieName/, { cookieName: '' }],
  [/cookieName/, { cookieName: 'a b' }],
  [/cookieName/, { cookieName: 'sid;' }],
  [/cookieName/, { cookieName: 'sid=' }],
  [/cookieName/, { cookieName: 'sïd' }],
  [/cookieName/, { cookieName: 42 }],
  [/cookie must be an object/, { cookie: 'secure' }],
  [/cookie must be an object/, { cookie: null }],
  [/cookie\.secur\b/, { cookie: { secur: true } }],
  [/cookie\.maxAge/, { cookie: { maxAge: 10 } }],
  [/cookie\.secure/, { cookie: { secure: 'true' } }],
  [/cookie\.secure/, { cookie: { secure: 1 } }],
  [/cookie\.sameSite/, { cookie: { sameSite: 'None' } }],
  [/cookie\.sameSite/, { cookie: { sameSite: true } }],
  [/cookie\.sameSite 'none' needs a Secure/, { cookie: { sameSite: 'none', secure: false } }],
  [/cookie\.httpOnly/, { cookie: { httpOnly: 'yes' } }],
  [/cookie\.partitioned/, { cookie: { partitioned: 1 } }],
  [/cookie\.persistent/, { cookie: { persistent: null } }],
  [/cookie\.path/, { cookie: { path: '' } }],
  [/cookie\.path/, { cookie: { path: 'app' } }],
  [/cookie\.path/, { cookie: { path: '/a;b' } }],
  [/cookie\.path/, { cookie: { path: 7 } }],
  [/cookie\.domain/, { cookie: { domain: '' } }],
  [/cookie\.domain/, { cookie: { domain: 'a b.example' } }],
  [/cookie\.domain/, { cookie: { domain: 'example.com:8080' } }],
  [/cookie\.domain/, { cookie: { domain: 'exa;mple.com' } }],
  [/__Host-.*cookie\.secure/, { cookieName: '__Host-sid', cookie: { secure: false } }],
  [/__Host-.*cookie\.path/, { cookieName: '__Host-sid', cookie: { path: '/app' } }],
  [/__Host-.*cookie\.domain/, { cookieName: '__Host-sid', cookie: { domain: 'example.com' } }],
  [/__Secure-.*cookie\.secure/, { cookieName: '__secure-sid', cookie: { secure: false } }],
  [/secrets/, { secrets: '' }],
  [/secrets/, { secrets: [] }],
  [/secrets/, { secrets: ['ok', ''] }],
  [/secrets/, { secrets: [42] }],
  [/secrets/, { secrets: { key: 'x' } }],
  [/transports/, { transports: [] }],
  [/transports/, { transports: ['cookies'] }],
  [/transports/, { transports: ['cookie', 'cookie'] }],
  [/transports/, { transports: 'cookie' }],
  [/headerName/, { headerName: '' }],
  [/headerName/, { headerName: 'x session' }],
  [/headerName/, { headerName: 'x-session-id:' }],
  [/headerName/, { headerName: 'Cookie' }],
  [/headerName/, { headerName: 'set-cookie' }],
  [/headerName/, { headerName: 'host' }],
  [/headerName/, { headerName: 'vary' }],
  [/headerName/, { headerName: 'connection' }],
  [/urlParam/, { urlParam: '' }],
  [/urlParam/, { urlParam: 'sid&x' }],
  [/urlParam/, { urlParam: 'sid=' }],
  [/urlParam/, { urlParam: 's d' }],
  [/urlParam/, { urlParam: 'sid#' }],
  [/urlParam/, { urlParam: 5 }],
  [/trustProxy/, { trustProxy: 'true' }],
  [/trustProxy/, { trustProxy: 1 }],
];

describe('transport and cookie options are checked at construction', () => {
  it.each(BAD.map(([message, options]) => [JSON.stringify(options), message, options] as const))(
    'refuses %s',
    (_, message, options) => {
      const make = build(options as SessionManagerBaseOptions);
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(message);
    },
  );

  it('checks the options of a transport that is not enabled too (a mistake either way)', () => {
    expect(build({ transports: ['cookie'], urlParam: 'a&b' })).toThrow(InvalidOptionError);
    expect(build({ transports: ['url'], cookie: { sameSite: 'None' as 'none' } })).toThrow(
      InvalidOptionError,
    );
  });

  it('accepts every good spelling', async () => {
    const good: SessionManagerBaseOptions[] = [
      {},
      { cookieName: 'app.sid', cookie: { path: '/app', domain: 'example.com', sameSite: 'strict' } },
      { cookie: { sameSite: 'none', secure: true, partitioned: true } },
      { cookie: { sameSite: false, httpOnly: false, persistent: false, secure: 'auto' } },
      { cookieName: '__Host-sid', cookie: { secure: true } },
      { cookieName: '__Secure-sid', cookie: { domain: '.example.com' } },
      { secrets: 'one' },
      { secrets: ['new', 'old'] },
      { transports: ['header', 'cookie', 'url'], headerName: 'X-Api-Session', urlParam: 'PHPSESSID' },
      { transports: ['url'], urlParam: 'session_id.v2~' },
      { trustProxy: true },
    ];
    for (const options of good) await build(options)().close();
  });
});
