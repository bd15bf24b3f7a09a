import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { addSessionParam, createSessionManager, rewriteLinks, type SessionManager } from '../src/index.js';
import { type Listening, listen } from './support/session-helpers.js';

// The rule: the id is added to a link only when the link, resolved against the page's URL as a browser
// resolves it (WHATWG URL), stays on the page's origin; any other link comes back unchanged.

const VALUE = 'ID';
const SEED = Number(process.env.FC_SEED ?? 20261127);

/** True when following `rewritten` from `page` stays on the page's origin (or the link was left as it was). */
function safe(href: string, rewritten: string, page: string): boolean {
  if (rewritten === href) return true;
  const target = new URL(rewritten, page);
  return target.origin === new URL(page).origin && target.searchParams.get('sid') === VALUE;
}

// The characters that make a link leave the page, in the spellings browsers accept.
const trickyChar = fc.constantFrom(
  '/',
  '\\',
  ':',
  '?',
  '#',
  '@',
  '.',
  ' ',
  '\t',
  '\n',
  '\r',
  '\f',
  '\u0000',
  '\u001f',
  '%',
  '&',
  '=',
  'h',
  't',
  'p',
  's',
  'j',
  'a',
  'v',
  'e',
  'l',
  'x',
  'H',
  'T',
  'P',
  'S',
  '1',
  '\u00a0',
  '\u3000',
);
const trickyHref = fc.oneof(
  fc.string({ unit: trickyChar, maxLength: 24 }),
  fc
    .tuple(
      fc.constantFrom('', ' ', '\t', '\n', '\u0001', ' \t'),
      fc.constantFrom(
        '//',
        '\\\\',
        '/\\',
        '\\/',
        '/\t/',
        '\\\t\\',
        'https:',
        'HTTP:',
        'http:',
        'https:/',
        'javascript:',
        'ja\tvascript:',
        'data:',
        'blob:',
        'ftp:',
        'file:',
      ),
      fc.constantFrom('evil.example', 'evil.example:8080', 'user@evil.example', '127.0.0.1', '[::1]', ''),
      fc.constantFrom('', '/', '/x?y=1', '#f', '?sid=old'),
    )
    .map((parts) => parts.join('')),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.webPath(),
);
const page = fc.oneof(
  fc.constantFrom('http://127.0.0.1:8080/dir/page?x=1', 'https://app.example/a/b', 'http://app.example/'),
  fc.webUrl(),
);

describe('addSessionParam: the id stays on the page origin', () => {
  it('leaves the backslash, whitespace and control-character spellings of another origin unchanged', () => {
    const escapes = [
      '/\\evil.example/',
      '\\\\evil.example/',
      '\\/evil.example/',
      ' //evil.example/',
      '\t//evil.example/',
      '/\t/evil.example/',
      '\n\\\\evil.example',
      '\u0001//evil.example',
      'https:\\\\evil.example',
      'http:evil.example',
      'HTTPS://evil.example',
      'ja\tvascript:alert(1)',
      ' javascript:alert(1)',
    ];
    for (const href of escapes) {
      expect(addSessionParam(href, 'sid', VALUE), JSON.stringify(href)).toBe(href);
    }
  });

  it('still rewrites local links, keeping their path, other parameters and fragment', () => {
    expect(addSessionParam('/a?b=1#c', 'sid', VALUE)).toBe('/a?b=1&sid=ID#c');
    expect(addSessionParam('page.html', 'sid', VALUE)).toBe('page.html?sid=ID');
    expect(addSessionParam('/a?sid=old&x', 'sid', VALUE)).toBe('/a?x&sid=ID');
    expect(addSessionParam('?q=a+b&r=%20', 'sid', VALUE)).toBe('?q=a+b&r=%20&sid=ID');
    expect(addSessionParam('  /trimmed  ', 'sid', VALUE)).toBe('/trimmed?sid=ID');
    expect(addSessionParam('#top', 'sid', VALUE)).toBe('#top');
  });

  it('replaces the parameter in every spelling of its name, and only that parameter', () => {
    // A bare `sid` (no '=') is the parameter too; `si+d` is `si d`, and an undecodable name is compared as written.
    expect(addSessionParam('/a?sid&x=1', 'sid', VALUE)).toBe('/a?x=1&sid=ID');
    expect(addSessionParam('/a?s%69d=old', 'sid', VALUE)).toBe('/a?sid=ID');
    expect(addSessionParam('/a?si+d=1', 'sid', VALUE)).toBe('/a?si+d=1&sid=ID');
    expect(addSessionParam('/a?%zz=1', 'sid', VALUE)).toBe('/a?%zz=1&sid=ID');
    // Tabs and newlines inside a link are dropped, as the URL parser drops them.
    expect(addSessionParam('/a\tb\n', 'sid', VALUE)).toBe('/ab?sid=ID');
    // Not a string (plain JavaScript): given back as it is.
    expect(addSessionParam(42 as never, 'sid', VALUE)).toBe(42);
  });

  it('for any href and page, the link is unchanged or resolves to the page origin with the id (fuzzed)', () => {
    fc.assert(
      fc.property(trickyHref, page, (href, pageUrl) =>
        safe(href, addSessionParam(href, 'sid', VALUE), pageUrl),
      ),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('adds the id to every path-relative link it keeps on the origin (no over-refusal)', () => {
    fc.assert(
      fc.property(fc.webPath(), fc.webQueryParameters(), (path, query) => {
        const href = `.${path}?${query}`; // './…': a path, never '//host'
        const rewritten = addSessionParam(href, 'sid', VALUE);
        return new URL(rewritten, 'http://app.example/d/p').searchParams.get('sid') === VALUE;
      }),
      { seed: SEED },
    );
  });
});

/** An attribute value as a browser reads it back: the character references a test input may hold. */
function decodeAttribute(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|amp|quot|apos|lt|gt);/g, (_, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return String.fromCodePoint(code);
    }
    return { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' }[ref] as string;
  });
}

/** `href` written into an attribute with some characters as numeric references (as an attacker may write it). */
const encodedHref = fc
  .tuple(trickyHref, fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), fc.boolean())
  .map(([href, flags, hex]) =>
    [...href]
      .map((c, i) => {
        if (flags[i % 64])
          return hex ? `&#x${(c.codePointAt(0) as number).toString(16)};` : `&#${c.codePointAt(0)};`;
        return c === '&' ? '&amp;' : c === '"' ? '&quot;' : c;
      })
      .join(''),
  );

describe('rewriteLinks: what the browser decodes is what is checked', () => {
  it('leaves links whose character references spell another origin unchanged', () => {
    for (const attr of [
      '&#47;&#47;evil.example/',
      '&#x2F;/evil.example',
      '&#92;&#92;evil.example',
      '&#9;//evil.example',
      '/&#92;evil.example',
      'javascript&colon;alert(1)',
      '&sol;&sol;evil.example',
      '&Tab;//evil.example',
    ]) {
      const html = `<a href="${attr}">x</a>`;
      expect(rewriteLinks(html, 'sid', VALUE), attr).toBe(html);
    }
  });

  it('rewrites nothing under a <base href> that leaves the origin (relative links resolve against it)', () => {
    for (const base of [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example/',
      '&#47;/evil.example/',
      // A reference this module does not decode: the base cannot be judged, so nothing is rewritten.
      'https&colon;//evil.example/',
    ]) {
      const html = `<head><base target=_top href="${base}"></head><a href="/next">n</a><form action='go'>`;
      expect(rewriteLinks(html, 'sid', VALUE), base).toBe(html);
    }
    const local = '<base href="/app/"><a href="next">n</a>';
    expect(rewriteLinks(local, 'sid', VALUE)).toBe('<base href="/app/?sid=ID"><a href="next?sid=ID">n</a>');
  });

  it('decodes references as the HTML tokenizer does in an attribute: surrogates, and legacy names without ;', () => {
    const rewritten = (href: string) => rewriteLinks(`<a href="${href}">`, 'sid', VALUE);
    // A surrogate code point is U+FFFD, both ends of the range; the code point after it is itself.
    expect(rewritten('/a&#xD800;')).toBe('<a href="/a\ufffd?sid=ID">');
    expect(rewritten('/a&#xDFFF;')).toBe('<a href="/a\ufffd?sid=ID">');
    expect(rewritten('/a&#xE000;')).toBe('<a href="/a\ue000?sid=ID">');
    // `&amp` without `;` is decoded at the end or before another character, but kept as text before a letter,
    // a digit or '=' (`&ampy`, `&lt9`, `&amp=`); a name the legacy list lacks (`&Amp`) is kept too.
    expect(rewritten('/a?x=1&amp')).toBe('<a href="/a?x=1&amp;sid=ID">');
    expect(rewritten('/a?x=1&lt/b')).toBe('<a href="/a?x=1&lt;/b&amp;sid=ID">');
    expect(rewritten('/a?x=1&ampy=2')).toBe('<a href="/a?x=1&amp;ampy=2&amp;sid=ID">');
    expect(rewritten('/b?q=&lt9')).toBe('<a href="/b?q=&amp;lt9&amp;sid=ID">');
    expect(rewritten('/a?x=1&amp=2')).toBe('<a href="/a?x=1&amp;amp=2&amp;sid=ID">');
    expect(rewritten('/a?x&Amp')).toBe('<a href="/a?x&amp;Amp&amp;sid=ID">');
  });

  it('decodes NUL, out-of-range and uppercase-hex numbers, and named references case-sensitively', () => {
    const rewritten = (href: string) => rewriteLinks(`<a href="${href}">`, 'sid', VALUE);
    // NUL and code points past U+10FFFF are U+FFFD; U+10FFFF itself is kept.
    expect(rewritten('/a&#0;b')).toBe('<a href="/a\ufffdb?sid=ID">');
    expect(rewritten('/a&#x110000;b')).toBe('<a href="/a\ufffdb?sid=ID">');
    expect(rewritten('/a&#x10FFFF;b')).toBe('<a href="/a\u{10ffff}b?sid=ID">');
    // `&#X2F;` is a slash as `&#x2F;` is: this link leaves the origin and is left alone.
    expect(rewritten('&#X2F;&#X2F;evil.example/')).toBe('<a href="&#X2F;&#X2F;evil.example/">');
    // Named references: `&amp;`, `&AMP;` (a legacy capital), `&apos;`, `&gt;` are decoded (and escaped again);
    // `&Amp;` is no reference the browser knows, so the link is left as it is.
    expect(rewritten('/a?x=1&amp;y=2')).toBe('<a href="/a?x=1&amp;y=2&amp;sid=ID">');
    expect(rewritten('/a?x=&AMP;y')).toBe('<a href="/a?x=&amp;y&amp;sid=ID">');
    expect(rewritten('/a?q=&apos;x')).toBe('<a href="/a?q=&#39;x&amp;sid=ID">');
    expect(rewritten('/a?x=&gt;')).toBe('<a href="/a?x=&gt;&amp;sid=ID">');
    expect(rewritten('/a?x&Amp;y')).toBe('<a href="/a?x&Amp;y">');
  });

  it('escapes the quote of a single-quoted attribute (a decoded &#39; cannot end it)', () => {
    const out = rewriteLinks("<a href='/a?x=&#39;onmouseover=alert(1)'>x</a>", 'sid', VALUE);
    expect(out).not.toMatch(/'onmouseover/);
    const href = /href='([^']*)'/.exec(out)?.[1] as string;
    expect(new URL(decodeAttribute(href), 'http://app.example/').searchParams.get('x')).toBe(
      "'onmouseover=alert(1)",
    );
  });

  it('for any encoded href, the decoded attribute is unchanged or stays on the page origin (fuzzed)', () => {
    fc.assert(
      fc.property(encodedHref, page, fc.constantFrom('"', "'"), (attr, pageUrl, quote) => {
        const html = `<p><a class=x href=${quote}${attr}${quote}>t</a></p>`;
        const out = rewriteLinks(html, 'sid', VALUE);
        if (out === html) return true;
        const match = new RegExp(`href=${quote}([^${quote}]*)${quote}`).exec(out);
        if (!match) return false;
        return safe(decodeAttribute(attr), decodeAttribute(match[1] as string), pageUrl);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe('session.url() and manager.rewriteLinks() over HTTP', () => {
  let server: Listening | undefined;
  let manager: SessionManager | undefined;
  afterEach(async () => {
    await server?.close();
    await manager?.close();
  });

  it('never put the id in a link to another origin', async () => {
    const m = createSessionManager({ provider: 'memory', transports: ['url', 'cookie'] });
    manager = m;
    server = await listen(async (req, res) => {
      const session = await m.start(req, res);
      session.set('n', 1);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: session.id,
          links: ['/\\evil.example/', ' //evil.example', '/next'].map((href) => session.url(href)),
          html: m.rewriteLinks('<a href="/\\evil.example/">a</a><a href="/ok">b</a>', session),
        }),
      );
    });
    const body = (await (await fetch(server.url)).json()) as { id: string; links: string[]; html: string };
    const base = `${server.url}/page`;
    expect(body.links.map((link) => new URL(link, base).searchParams.get('sid'))).toEqual([
      null,
      null,
      body.id,
    ]);
    expect(body.html).toBe(`<a href="/\\evil.example/">a</a><a href="/ok?sid=${body.id}">b</a>`);
  });
});
