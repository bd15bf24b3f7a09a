import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import type { IdTransport } from './id-transport.js';

/** Default query parameter of the URL transport (`?sid=`). */
export const DEFAULT_SESSION_PARAM = 'sid';

/**
 * The URL transport (the classic `use_trans_sid`, off by default): the id comes in query parameter
 * `param`; it goes out only in links the app rewrites (`session.url()`, `manager.rewriteLinks()`). Anyone
 * can put an id in a link, so the manager reads this transport last (a live cookie or header wins) and not
 * at all on a navigation from another site. Every response says `Referrer-Policy: no-referrer`: the page's
 * URL holds the id, and the Referer header would give it to every site the page links to or loads from.
 */
export function createUrlTransport(param: string = DEFAULT_SESSION_PARAM): IdTransport {
  if (typeof param !== 'string' || !URL_PARAM.test(param)) {
    throw new InvalidOptionError(
      `urlParam must be a non-empty name of unreserved URL characters (A-Z a-z 0-9 - . _ ~), got ${String(param)}`,
    );
  }
  return {
    name: 'url',
    read: (req) => (isFromAnotherSite(req) ? undefined : readQueryParam(req, param)),
    write(sink) {
      sink.setHeader('Referrer-Policy', 'no-referrer');
    },
  };
}

// A name that needs no encoding in a query, so that links carry it exactly as it is read back.
const URL_PARAM = /^[A-Za-z0-9._~-]+$/;

/**
 * True unless the browser says the request comes from this origin or from the user (`Sec-Fetch-Site`
 * `same-origin`, or `none`: typed, bookmarked), or sends no such header (older clients). The links this module
 * rewrites never leave the page's origin, so an id in the URL of a `cross-site` or `same-site` request was put
 * there by someone else: following it would log the visitor into that person's session. Browsers send one
 * lower-case value; any other spelling (`Cross-Site`, a repeated header, an unknown token) is not believed.
 */
function isFromAnotherSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** The value of query parameter `param` in the request URL, or undefined (a repeated parameter is ignored). */
function readQueryParam(req: IncomingMessage, param: string): string | undefined {
  const url = req.url;
  if (typeof url !== 'string') return undefined;
  // A '?' after a '#' is the fragment's, not a query (browsers never send a fragment; a raw client may).
  const hash = hashIndex(url, 0);
  const q = url.indexOf('?');
  if (q < 0 || q > hash) return undefined;
  const search = url.slice(q + 1, hash);
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(search);
  } catch {
    return undefined;
  }
  const values = params.getAll(param);
  return values.length === 1 && values[0] !== '' ? values[0] : undefined;
}

function hashIndex(url: string, from: number): number {
  const hash = url.indexOf('#', from);
  return hash < 0 ? url.length : hash;
}

// Two pages on different schemes, hosts and ports. A link resolves to its page's origin under both only when it
// names no scheme and no host: then it stays on the origin of any http(s) page, whatever the page's URL. The
// browser's own parser (WHATWG URL) decides, so every spelling it accepts — `/\host`, a tab in `//host`, `HTTP:host`,
// a leading control character — is judged as the browser will follow it. A link that names this site in full
// (`https://app.example/x`) is left unchanged too: the server cannot know its public origin (the Host header
// is the client's word), and a link left unchanged is always safe.
const PROBE_PAGES = [new URL('http://a.invalid/d/p'), new URL('https://b.invalid:8443/d/p')];

/** True when `href`, resolved against any http(s) page as a browser would, stays on that page's origin. */
function staysOnPageOrigin(href: string): boolean {
  for (const page of PROBE_PAGES) {
    let target: URL;
    try {
      target = new URL(href, page);
    } catch {
      return false;
    }
    if (target.origin !== page.origin) return false;
  }
  return true;
}

/** `href` as the URL parser reads it: leading and trailing C0 controls and spaces cut, tabs and newlines removed. */
function browserSpelling(href: string): string {
  let start = 0;
  let end = href.length;
  while (start < end && href.charCodeAt(start) <= 0x20) start++;
  while (end > start && href.charCodeAt(end - 1) <= 0x20) end--;
  const trimmed = href.slice(start, end);
  return /[\t\n\r]/.test(trimmed) ? trimmed.replace(/[\t\n\r]/g, '') : trimmed;
}

/** True when query segment `segment` (`name=value` or `name`) is parameter `param`. */
function isParam(segment: string, param: string): boolean {
  const eq = segment.indexOf('=');
  const name = (eq < 0 ? segment : segment.slice(0, eq)).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(name) === param;
  } catch {
    return name === param;
  }
}

/**
 * Adds (or replaces) `param=value` in the query of a link that stays on the page's origin, keeping its path,
 * its other query parameters as written, and its fragment. Every other link comes back unchanged — another
 * origin (in any spelling a browser accepts), another scheme (`mailto:`, `javascript:`), or a fragment only
 * (`#top`: adding a query would turn it into a page load) — so the id never leaks to another origin.
 */
export function addSessionParam(href: string, param: string, value: string): string {
  if (typeof href !== 'string' || !staysOnPageOrigin(href)) return href;
  const link = browserSpelling(href);
  if (link.startsWith('#')) return href;
  const hashAt = link.indexOf('#');
  const fragment = hashAt < 0 ? '' : link.slice(hashAt);
  const beforeHash = hashAt < 0 ? link : link.slice(0, hashAt);
  const q = beforeHash.indexOf('?');
  const path = q < 0 ? beforeHash : beforeHash.slice(0, q);
  const kept =
    q < 0
      ? []
      : beforeHash
          .slice(q + 1)
          .split('&')
          .filter((s) => s !== '' && !isParam(s, param));
  kept.push(`${encodeURIComponent(param)}=${encodeURIComponent(value)}`);
  return `${path}?${kept.join('&')}${fragment}`;
}

const HREF_ATTRIBUTE = /(\s(?:href|action)\s*=\s*)(["'])(.*?)\2/gi;

// The character references an attribute value may hold and this module decodes, as the HTML tokenizer does.
// A named reference we do not decode (`&colon;`, `&sol;`, `&Tab;`, ...) may spell a scheme, a slash or a
// control character: such a link is left unchanged rather than judged on text the browser will read otherwise.
const REFERENCE = /&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*)(;?)/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
// Named references a browser decodes even without the semicolon (the legacy ones that give ASCII characters);
// the others that it decodes so give non-ASCII letters, which cannot move a link to another origin.
const LEGACY = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT']);

/** The attribute value a browser reads from `text`, or undefined when it holds a reference we do not decode. */
function decodeAttribute(text: string): string | undefined {
  if (!text.includes('&')) return text;
  let unknown = false;
  const decoded = text.replace(REFERENCE, (whole: string, ref: string, semicolon: string, at: number) => {
    if (ref.startsWith('#')) {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const code = Number.parseInt(ref.slice(hex ? 2 : 1), hex ? 16 : 10);
      // The tokenizer's replacements (NUL, surrogates, out of range) are U+FFFD; C1 codes map to
      // windows-1252 letters: both non-ASCII, neither can change the origin.
      return code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)
        ? '\ufffd'
        : String.fromCodePoint(code);
    }
    if (semicolon === ';') {
      const named = NAMED[ref.toLowerCase()];
      if (named !== undefined && (ref === ref.toLowerCase() || LEGACY.has(ref))) return named;
      unknown = true;
      return whole;
    }
    // Without a semicolon, an attribute keeps `&name` as text when a letter, digit or '=' follows it.
    const next = text[at + whole.length];
    if (LEGACY.has(ref) && (next === undefined || !/[A-Za-z0-9=]/.test(next)))
      return NAMED[ref.toLowerCase()] as string;
    return whole;
  });
  return unknown ? undefined : decoded;
}

function escapeAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

const BASE_ELEMENT = /<base\b[^>]*?\shref\s*=\s*(["'])(.*?)\1/i;

/**
 * False when the fragment has a `<base href>` that leaves the page's origin: the browser resolves every
 * relative link against it, so none may carry the id. (`session.url()` cannot see the page's `<base>`.)
 */
function baseStaysOnOrigin(html: string): boolean {
  const base = BASE_ELEMENT.exec(html);
  if (base === null) return true;
  const href = decodeAttribute(base[2] as string);
  return href !== undefined && staysOnPageOrigin(href);
}

/**
 * Rewrites the quoted `href` and `action` attributes of an HTML fragment that stay on the page's origin to
 * carry the session id (the classic `use_trans_sid`). The check runs on the value the browser decodes
 * (character references included), and the value written back is escaped for either quote. Prefer
 * cookies: an id in URLs can leak through logs, history and shared links.
 */
export function rewriteLinks(html: string, param: string, value: string): string {
  if (!baseStaysOnOrigin(html)) return html;
  return html.replace(HREF_ATTRIBUTE, (whole, prefix: string, quote: string, raw: string) => {
    const href = decodeAttribute(raw);
    if (href === undefined) return whole;
    const rewritten = addSessionParam(href, param, value);
    if (rewritten === href) return whole;
    return `${prefix}${quote}${escapeAttribute(rewritten)}${quote}`;
  });
}
