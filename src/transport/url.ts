import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import type { IdTransport } from './id-transport.js';

/** Default query parameter of the URL transport (`?sid=`). */
export const DEFAULT_SESSION_PARAM = 'sid';

/**
 * The URL transport (the classic `use_trans_sid`, off by default): the id comes in query parameter
 * `param`; it goes out only in links the app rewrites (`session.url()`, `manager.rewriteLinks()`), so
 * nothing is written to the response's headers.
 */
export function createUrlTransport(param: string = DEFAULT_SESSION_PARAM): IdTransport {
  if (typeof param !== 'string' || param === '')
    throw new InvalidOptionError('urlParam must be a non-empty string');
  return {
    name: 'url',
    read: (req) => readQueryParam(req, param),
    write() {},
  };
}

/** The value of query parameter `param` in the request URL, or undefined (a repeated parameter is ignored). */
function readQueryParam(req: IncomingMessage, param: string): string | undefined {
  const url = req.url;
  if (typeof url !== 'string') return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const search = url.slice(q + 1, hashIndex(url, q + 1));
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

// A link we may rewrite: relative or root-relative. Absolute URLs (`https:`, `mailto:`, `//host`) point
// elsewhere and must never carry the id: that would leak it to another site.
function isLocalLink(href: string): boolean {
  return !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href) && !href.startsWith('//') && !href.startsWith('#');
}

/**
 * Adds (or replaces) `param=value` in the query of a local link, keeping its path and fragment. Absolute
 * links and fragment-only links come back unchanged, so the id never leaks to another origin.
 */
export function addSessionParam(href: string, param: string, value: string): string {
  if (!isLocalLink(href)) return href;
  const hashAt = href.indexOf('#');
  const fragment = hashAt < 0 ? '' : href.slice(hashAt);
  const beforeHash = hashAt < 0 ? href : href.slice(0, hashAt);
  const q = beforeHash.indexOf('?');
  const path = q < 0 ? beforeHash : beforeHash.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : beforeHash.slice(q + 1));
  params.set(param, value);
  return `${path}?${params.toString()}${fragment}`;
}

const HREF_ATTRIBUTE = /(\s(?:href|action)\s*=\s*)(["'])(.*?)\2/gi;

/**
 * Rewrites the `href` and `action` attributes of local links in an HTML fragment to carry the session id
 * (the classic `use_trans_sid`). Prefer cookies: an id in URLs can leak through Referer headers, logs and
 * shared links. Attribute values are HTML-escaped as they are written back.
 */
export function rewriteLinks(html: string, param: string, value: string): string {
  return html.replace(HREF_ATTRIBUTE, (whole, prefix: string, quote: string, href: string) => {
    const decoded = href.replace(/&amp;/g, '&');
    if (!isLocalLink(decoded)) return whole;
    const rewritten = addSessionParam(decoded, param, value).replace(/&/g, '&amp;').replace(/"/g, '&quot;');
    return `${prefix}${quote}${rewritten}${quote}`;
  });
}
