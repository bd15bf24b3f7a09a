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

type Hook = (sink: HeaderSink) => void;

const hooksKey = Symbol('shard-session.beforeHeaders');
type Hooked = ServerResponse & { [hooksKey]?: Hook[] };

/**
 * Runs `hook` right before the response's headers are written, once. Node routes every way of starting a
 * response through `writeHead` (`write`, `end` and `flushHeaders` call it implicitly; Express and Fastify call
 * it directly), so wrapping that one method covers streaming, SSE, HEAD and redirects alike. Returns false
 * when the headers are already out.
 */
export function beforeHeaders(res: ServerResponse, hook: Hook): boolean {
  if (res.headersSent) return false;
  const hooked = res as Hooked;
  const existing = hooked[hooksKey];
  if (existing) {
    existing.push(hook);
    return true;
  }
  const hooks: Hook[] = [hook];
  hooked[hooksKey] = hooks;
  const original = res.writeHead;
  // biome-ignore lint/suspicious/noExplicitAny: writeHead's overloads cannot be forwarded with precise types.
  res.writeHead = function writeHeadWithSession(this: ServerResponse, ...args: any[]) {
    const pending = hooks.splice(0);
    if (pending.length > 0) {
      const sink = sinkFor(this, args);
      for (const run of pending) run(sink);
    }
    return original.apply(this, args as Parameters<typeof original>);
  } as typeof res.writeHead;
  return true;
}

// writeHead(status, headers?) or writeHead(status, reason, headers?). Headers passed there override those set
// with setHeader, so a Set-Cookie in them (a framework's own cookies) must be merged with ours, not replaced.
function sinkFor(res: ServerResponse, args: unknown[]): HeaderSink {
  const index = typeof args[1] === 'string' ? 2 : 1;
  return {
    appendSetCookie(value) {
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
      appendSetCookie(res, value);
    },
    setHeader(name, value) {
      res.setHeader(name, value);
    },
    addVary(field) {
      const headers = args[index];
      if (Array.isArray(headers)) {
        const merged = mergeRawPairs(headers, isVary, (fields) => mergeVary(fields, field));
        if (merged !== undefined) {
          args[index] = merged;
          return;
        }
      } else if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
        const key = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
        if (key !== undefined) {
          const merged = mergeVary((headers as OutgoingHttpHeaders)[key], field);
          args[index] = { ...headers, [key]: merged };
          return;
        }
      }
      res.setHeader('Vary', mergeVary(res.getHeader('vary'), field));
    },
  };
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
