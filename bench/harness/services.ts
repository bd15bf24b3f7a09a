/** Servers that need an external service (Redis, PostgreSQL) are skipped, not failed, when it is not there. */
import { connect } from 'node:net';
import type { ServerEntry } from '../servers/registry.js';

const PROBE_TIMEOUT_MS = 1_000;

/** Resolves true when something accepts a TCP connection at the URL's host and port. */
export function reachable(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(target.port);
  if (!Number.isInteger(port) || port <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Of `entries`, the ones whose service does not answer, with the reason to print and report. */
export async function unavailable(
  entries: readonly ServerEntry[],
): Promise<Array<{ server: string; reason: string }>> {
  const skipped: Array<{ server: string; reason: string }> = [];
  for (const entry of entries) {
    if (entry.service === undefined) continue;
    const url = process.env[entry.service.env] || entry.service.defaultUrl;
    if (!(await reachable(url))) {
      skipped.push({
        server: entry.name,
        reason: `nothing answers at ${entry.service.env}=${url.replace(/\/\/[^@/]*@/, '//')}`,
      });
    }
  }
  return skipped;
}
