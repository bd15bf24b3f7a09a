/**
 * The classic chapter's interfaces, ported as they are: a Session with Set/Get/Delete/SessionID, a Provider
 * with SessionInit/SessionRead/SessionDestroy/SessionGC, and providers registered by name like a
 * `database/sql` driver. Every call is asynchronous, as a store behind I/O would be.
 */

/** One session: the classic `Session` interface. */
export interface ClassicSession {
  set(key: string, value: unknown): Promise<void>;
  get(key: string): Promise<unknown>;
  delete(key: string): Promise<void>;
  sessionID(): string;
}

/** A storage backend: the classic `Provider` interface. */
export interface ClassicProvider {
  sessionInit(sid: string): Promise<ClassicSession>;
  /** Returns the session, creating it if the id is unknown (the classic design adopts any id it is sent). */
  sessionRead(sid: string): Promise<ClassicSession>;
  sessionDestroy(sid: string): Promise<void>;
  /** Removes every session not accessed within `maxLifetimeS` seconds. */
  sessionGC(maxLifetimeS: number): Promise<void>;
}

const providers = new Map<string, ClassicProvider>();

/** Makes a provider available by name; like the classic `Register`, a second registration is a bug. */
export function register(name: string, provider: ClassicProvider): void {
  if (providers.has(name)) throw new Error(`classic session: provider ${name} registered twice`);
  providers.set(name, provider);
}

/** The provider registered under `name`. */
export function provider(name: string): ClassicProvider {
  const found = providers.get(name);
  if (found === undefined) throw new Error(`classic session: unknown provider ${name} (forgotten import?)`);
  return found;
}
