import type { IncomingMessage } from 'node:http';

/** Why a form could not be read: its body is over the limit, or it is not a urlencoded form. */
export type FormFailure = 'too-large' | 'not-a-form';

/**
 * Reads a small urlencoded form. A body over `limit` bytes is refused without reading the rest: by its
 * `Content-Length` before any byte is read, or as soon as a chunked body passes the limit (the caller then
 * answers 413 and closes the connection, so the client cannot keep streaming).
 */
export async function readForm(
  req: IncomingMessage,
  limit: number,
): Promise<Map<string, string[]> | FormFailure | 'malformed'> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return 'not-a-form';
  if (declaresMoreThan(req, limit)) return 'too-large';
  const body = await readBody(req, limit);
  if (body === undefined) return 'too-large';
  return parseForm(body) ?? 'malformed';
}

/** True when the request's `Content-Length` says its body is over `limit` bytes (refuse it unread). */
export function declaresMoreThan(req: IncomingMessage, limit: number): boolean {
  return Number(req.headers['content-length']) > limit;
}

/**
 * The fields of a urlencoded body, strictly: undefined when a name or value is not valid percent-encoding
 * (URLSearchParams would pass it through as text).
 */
export function parseForm(body: string): Map<string, string[]> | undefined {
  const fields = new Map<string, string[]>();
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      const name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      const value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
      fields.set(name, [...(fields.get(name) ?? []), value]);
    } catch {
      return undefined;
    }
  }
  return fields;
}

/** The single value of field `name`, trimmed; '' when missing; undefined when repeated (ambiguous). */
export function field(form: Map<string, string[]>, name: string): string | undefined {
  const values = form.get(name) ?? [];
  if (values.length > 1) return undefined;
  return (values[0] ?? '').trim();
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading: pause the stream and let the caller answer 413 and close the connection.
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
