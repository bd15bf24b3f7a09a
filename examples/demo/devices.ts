import type { IncomingMessage } from 'node:http';
import type { Session, SessionManager } from '../../src/index.js';
import type { DemoData } from './app.js';
import type { Device } from './pages.js';

/**
 * The demo's "Your devices" (issue 13): the logged-in user's sessions from the manager's user index. Only
 * providers with a user index ('memory', 'sharded', 'redis') offer it; over PostgreSQL the demo logs in
 * without it and the page shows no device list.
 */

/** Whether the store keeps a user index (the provider has the 'users' capability). */
export function hasUserIndex(manager: SessionManager<DemoData>): boolean {
  return typeof manager.provider.sessionsOf === 'function';
}

/** The user's devices, oldest first, this session's marked `current`. */
export async function devicesOf(
  manager: SessionManager<DemoData>,
  session: Session<DemoData>,
  username: string,
): Promise<Device[]> {
  const sessions = await manager.sessionsOf(username);
  return sessions.map((s) => ({
    handle: s.handle,
    current: s.handle === session.handle,
    label: s.label,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
  }));
}

/** A short name for the device: the browser's User-Agent, cut (the label's limit is 200 characters). */
export function deviceLabel(req: IncomingMessage): string {
  return (req.headers['user-agent'] ?? 'a browser').slice(0, 120);
}
