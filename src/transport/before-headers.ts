import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { mergeVary } from './vary.js';

/** What a before-headers hook may do to the response that is about to start. */
export interface HeaderSink {
  /** Adds a `Set-Cookie` line, keeping every other one (ours, the app's, a framework's). */
  appendSetCookie(value: string): void;
  /** Sets a header (replacing one of the same name set through `res.setHeader`). */
  setHeader(name: string, value: string): void;
  /** Adds `field` to `Vary`, keeping the fields the app or a framework already listed. */
  addVary(field: string): void;
}

/**
 * What runs before the headers go out: a function, or an object with a `beforeHeaders` method (the manager passes
 * its request context, which it has anyway, so that no closure is made per request).
 */
export type HeaderHook = ((sink: HeaderSink) => void) | { beforeHeaders(sink: HeaderSink): void };

const hooksKey = Symbol('shard-session.beforeHeaders');
const originalKey = Symbol('shard-session.writeHead');
type WriteHead = ServerResponse['writeHead'];
// One hook (the usual case) is kept as it is; an array only from the second on.
type Hooked = ServerResponse & {
  [hooksKey]?: HeaderHook | HeaderHook[] | undefined;
  [originalKey]?: WriteHead;
};

/**
 * Runs `hook` right before the response's headers are written, once. Node routes every way of starting a
 * response through `writeHead` (`write`, `end` and `flushHeaders` call it implicitly; Express and Fastify call
 * it directly), so wrapping that one method covers streaming, SSE, HEAD and redirects alike. Returns false
 * when the headers are already out.
 *
 * Per response this stores the hook and the `writeHead` it replaces on the response and points `writeHead` at
 * one shared function: no closure per response (the wrapper closure and a sink of three closures per request
 * were a measurable share of the session layer's allocations).
 */
export function beforeHeaders(res: ServerResponse, hook: HeaderHook): boolean {
  if (res.headersSent) return false;
  const hooked = res as Hooked;
  // Installed already (maybe under a wrapper a framework added since): one more hook for the same run.
  if (hooked[originalKey] !== undefined) {
    const existing = hooked[hooksKey];
    if (existing === undefined) hooked[hooksKey] = hook;
    else if (Array.isArray(existing)) existing.push(hook);
    else hooked[hooksKey] = [existing, hook];
    return true;
  }
  hooked[hooksKey] = hook;
  // Whatever writeHead the response has now (the prototype's, or a framework's own wrapper) runs after the hooks.
  hooked[originalKey] = hooked.writeHead;
  hooked.writeHead = writeHeadWithHooks as WriteHead;
  return true;
}

// biome-ignore lint/suspicious/noExplicitAny: writeHead's overloads cannot be forwarded with precise types.
function writeHeadWithHooks(this: Hooked, ...args: any[]): ServerResponse {
  const hooks = this[hooksKey];
  if (hooks !== undefined) {
    // Taken before running: a hook that starts the response itself does not run twice.
    this[hooksKey] = undefined;
    const sink = new ResponseSink(this, args);
    if (Array.isArray(hooks)) for (const hook of hooks) run(hook, sink);
    else run(hooks, sink);
  }
  return (this[originalKey] as WriteHead).apply(this, args as Parameters<WriteHead>);
}

function run(hook: HeaderHook, sink: HeaderSink): void {
  if (typeof hook === 'function') hook(sink);
  else hook.beforeHeaders(sink);
}

// writeHead(status, headers?) or writeHead(status, reason, headers?). Headers passed there override those set
// with setHeader, so a Set-Cookie in them (a framework's own cookies) must be merged with ours, not replaced.
class ResponseSink implements HeaderSink {
  readonly #res: ServerResponse;
  readonly #args: unknown[];
  readonly #index: number;

  constructor(res: ServerResponse, args: unknown[]) {
    this.#res = res;
    this.#args = args;
    this.#index = typeof args[1] === 'string' ? 2 : 1;
  }

  appendSetCookie(value: string): void {
    const args = this.#args;
    const index = this.#index;
    const headers = args[index];
    if (Array.isArray(headers)) {
      const merged = mergeRawPairs(headers, isSetCookie, (lines) => [...lines, value]);
      if (merged !== undefined) {
        args[index] = merged;
        return;
      }
    } else if (headers !== null && typeof headers === 'object') {
      const key = Object.keys(headers).find(isSetCookie);
      if (key !== undefined) {
        const current = (headers as OutgoingHttpHeaders)[key];
        const lines = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
        args[index] = { ...headers, [key]: [...lines, value] };
        return;
      }
    }
    appendSetCookie(this.#res, value);
  }

  setHeader(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }

  addVary(field: string): void {
    const args = this.#args;
    const index = this.#index;
    const headers = args[index];
    if (Array.isArray(headers)) {
      const merged = mergeRawPairs(headers, isVary, (fields) => mergeVary(fields, field));
      if (merged !== undefined) {
        args[index] = merged;
        return;
      }
    } else if (headers !== null && typeof headers === 'object') {
      const key = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
      if (key !== undefined) {
        const merged = mergeVary((headers as OutgoingHttpHeaders)[key], field);
        args[index] = { ...headers, [key]: merged };
        return;
      }
    }
    this.#res.setHeader('Vary', mergeVary(this.#res.getHeader('vary'), field));
  }
}

/**
 * A raw header array (`[name, value, name, value, …]`) whose pairs named like `matches` become ONE pair, with
 * the value `merge` makes of all their values; undefined when there is no such pair. One pair, because once
 * `setHeader` was used on the response, Node 20's `writeHead` sets (not appends) an array's pairs in turn: of
 * two `Set-Cookie` pairs only the last would be sent, and a `Vary` pair would replace the one set before.
 */
function mergeRawPairs(
  headers: unknown[],
  matches: (name: unknown) => boolean,
  merge: (values: string[]) => string | string[],
): unknown[] | undefined {
  const rest: unknown[] = [];
  const values: string[] = [];
  let name: unknown;
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1];
    if (!matches(headers[i])) rest.push(headers[i], value);
    else {
      name ??= headers[i];
      values.push(...(Array.isArray(value) ? value.map(String) : [String(value)]));
    }
  }
  return name === undefined ? undefined : [...rest, name, merge(values)];
}

function isVary(name: unknown): boolean {
  return typeof name === 'string' && name.toLowerCase() === 'vary';
}

// ServerResponse has appendHeader since Node 18.3; the HTTP/2 compatibility response does not.
function appendSetCookie(res: ServerResponse, value: string): void {
  if (typeof res.appendHeader === 'function') {
    res.appendHeader('Set-Cookie', value);
    return;
  }
  const current = (res as ServerResponse).getHeader('set-cookie');
  const lines = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  res.setHeader('Set-Cookie', [...lines, value]);
}

function isSetCookie(name: unknown): boolean {
  return typeof name === 'string' && name.toLowerCase() === 'set-cookie';
}
