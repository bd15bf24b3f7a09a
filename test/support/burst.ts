import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Listening } from './session-helpers.js';

/** An HTTP/1.1 answer read off a raw socket. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends `requests` (header maps of GETs to `path`) on fresh connections so that the server reads them all in
 * ONE poll phase: every connection is open before anything is written, every request is written before the
 * event loop is given back, and this (in-process) server's loop is then held for `holdMs` while the bytes
 * wait in the kernel. What the server does per event-loop turn — batching, queue limits — is then
 * deterministic. Resolves the answers in request order.
 */
export async function burst(
  listening: Listening,
  path: string,
  requests: readonly Record<string, string>[],
  holdMs = 50,
): Promise<RawAnswer[]> {
  const { port, hostname } = new URL(listening.url);
  // Wait until the server accepted every connection (not only until the client connected): a connection
  // accepted after the hold would be read in a later phase.
  let accepted = 0;
  const allAccepted = new Promise<void>((resolve) => {
    const onConnection = () => {
      if (++accepted < requests.length) return;
      listening.server.off('connection', onConnection);
      resolve();
    };
    listening.server.on('connection', onConnection);
  });
  const sockets = requests.map(() => connect(Number(port), hostname));
  await Promise.all([allAccepted, ...sockets.map((socket) => once(socket, 'connect'))]);
  const answers = sockets.map((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    return once(socket, 'close').then(() => parse(Buffer.concat(chunks).toString('latin1')));
  });
  for (const [i, headers] of requests.entries()) {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    (sockets[i] as Socket).write(
      `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${lines.join('')}\r\n`,
    );
  }
  // Block this thread (and so the server's loop, which is this one): the requests pile up unread.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
  return Promise.all(answers);
}

function parse(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  return { status, headers, body: text.slice(end + 4) };
}
