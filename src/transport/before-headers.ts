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
        if (headers.some((item, i) => i % 2 === 0 && isSetCookie(item))) {
          args[index] = [...headers, 'Set-Cookie', value];
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
      if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
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
