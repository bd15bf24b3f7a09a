import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Mutex } from './mutex.js';
import { type ClassicProvider, type ClassicSession, provider as providerNamed } from './provider.js';

/**
 * The classic chapter's global session manager, ported as it is: a cookie name, a provider and ONE mutex.
 * The lock is held around every session operation — starting, destroying and sweeping sessions, and each
 * Set/Get/Delete on a session (the classic memory provider takes its own global lock for those; with one
 * thread a second lock would only serialize the same calls again, so this port keeps one). Two requests
 * that read-modify-write the same key can still interleave between their Get and their Set: the lock
 * protects the map, not the request.
 */
export class Manager {
  private readonly lock = new Mutex();
  private readonly provider: ClassicProvider;
  private gcTimer: NodeJS.Timeout | undefined;

  constructor(
    providerName: string,
    private readonly cookieName: string,
    private readonly maxLifetimeS: number,
  ) {
    this.provider = providerNamed(providerName);
  }

  /** Finds the request's session by cookie, or creates one and sets its cookie. */
  sessionStart(req: IncomingMessage, res: ServerResponse): Promise<ClassicSession> {
    return this.lock.run(async () => {
      const value = readCookie(req, this.cookieName);
      if (value === undefined || value === '') {
        const sid = classicSessionId();
        const session = await this.provider.sessionInit(sid);
        res.setHeader(
          'set-cookie',
          `${this.cookieName}=${encodeURIComponent(sid)}; Path=/; Max-Age=${this.maxLifetimeS}; HttpOnly`,
        );
        return this.locked(session);
      }
      const session = await this.provider.sessionRead(decodeURIComponent(value));
      return this.locked(session);
    });
  }

  /** Ends the request's session and expires its cookie. */
  async sessionDestroy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const value = readCookie(req, this.cookieName);
    if (value === undefined || value === '') return;
    await this.lock.run(() => this.provider.sessionDestroy(decodeURIComponent(value)));
    res.setHeader('set-cookie', `${this.cookieName}=; Path=/; Max-Age=0; HttpOnly`);
  }

  /** Sweeps expired sessions, then schedules itself again after maxLifetime (the classic `time.AfterFunc`). */
  async gc(): Promise<void> {
    await this.lock.run(() => this.provider.sessionGC(this.maxLifetimeS));
    this.gcTimer = setTimeout(() => void this.gc(), this.maxLifetimeS * 1000);
    this.gcTimer.unref();
  }

  /** Stops the GC timer. */
  stop(): void {
    clearTimeout(this.gcTimer);
  }

  private locked(session: ClassicSession): ClassicSession {
    const lock = this.lock;
    return {
      set: (key, value) => lock.run(() => session.set(key, value)),
      get: (key) => lock.run(() => session.get(key)),
      delete: (key) => lock.run(() => session.delete(key)),
      sessionID: () => session.sessionID(),
    };
  }
}

/** The classic sessionId(): 32 random bytes, base64 URL encoding with padding. */
export function classicSessionId(): string {
  return randomBytes(32).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

/** The classic `r.Cookie(name)`: the first cookie with that name. */
function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
