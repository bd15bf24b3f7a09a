import type { ServerResponse } from 'node:http';
import { escapeHtml, page } from './pages.js';

/** The demo's answers: every one uncached, and none leaves a refused body to be read. */

export const HTML = 'text/html; charset=utf-8';
export const TEXT = 'text/plain; charset=utf-8';

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  closeIfBodyUnread(res);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/**
 * Answers a request whose body was not read (refused, or a route that takes none) and then closes the
 * connection: on a kept-alive one, Node would read and discard the whole body first, however large.
 */
function closeIfBodyUnread(res: ServerResponse): void {
  const req = res.req;
  const hasBody = Number(req.headers['content-length']) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || req.readableEnded) return;
  res.setHeader('Connection', 'close');
  res.once('finish', () => req.socket.destroy());
}

export function tooLarge(res: ServerResponse, limit: number): void {
  send(res, 413, TEXT, `Payload Too Large: forms here are at most ${limit} bytes.\n`);
}

export function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.end();
}

export function badRequest(res: ServerResponse, message: string): void {
  send(
    res,
    400,
    HTML,
    page('Bad request', `<p>${escapeHtml(message)}</p><p><a href="/login">Log in</a></p>`),
  );
}

export function forbidden(res: ServerResponse): void {
  send(res, 403, TEXT, 'Forbidden: this form must be sent from this site, with its token.\n');
}
