import { randomBytes } from 'node:crypto';
import { EventBatches, type EventReceiver } from './event-batches.js';
import { absoluteExpiresAt, createdAt, expiresAt, idleExpiresAt, idleTimeoutMs } from './packed-record.js';
import type { SessionBinding, SessionEvent, UserSessionInfo } from './provider.js';
import { type Binding, publicBinding, type RecordExtras } from './session-record.js';

/** Why the table removes a record: an event's reason, or `undefined` when it only moves (the first half of a rename). */
export type Removal = 'destroy' | 'revoke' | 'expired' | 'capacity' | undefined;

/** What the index needs of the table that owns it: passed in, so the table stays the only owner of its records. */
export interface TableAccess {
  /** The live packed record under `sid` (an expired one is removed, with its event). */
  live(sid: string, now: number): string | undefined;
  /** The session's binding and flags, if it has any. */
  extras(sid: string): RecordExtras | undefined;
  /** Binds a live session (the table keeps the binding; a durable shard writes it through). */
  setBinding(sid: string, packed: string, binding: Binding): void;
  /** Removes a live record, for `reason`. */
  remove(sid: string, packed: string, reason: Removal): void;
}

/**
 * How long a revocation is remembered for a record in transit between two shards (a cross-shard rename takes
 * it from one and puts it in the other): such a record arriving after a `revokeUser` that it was bound before
 * is dropped. A transit is bounded by the shard watchdog (`shardTimeoutMs`, default 5 s): a minute is ample.
 */
const TOMBSTONE_MS = 60_000;

/**
 * A table's index of user-bound sessions (issue 13): user id → handle → session id, and the events of bound
 * sessions, batched. Each table indexes its own sessions, so a binding changes in the same step as the session
 * it belongs to (destroy, expiry, eviction, rename): there is nothing to keep consistent across threads. For
 * 'sharded' this means `sessionsOf` and `revokeUser` ask every shard (one operation per shard, batched into
 * that turn's frame), never scan sessions. Unbound sessions never reach this class.
 */
export class UserIndex {
  readonly #users = new Map<string, Map<string, string>>();
  /** `u:userId` or `h:handle` → when revoked, and the handle `revokeUser` spared. */
  readonly #tombstones = new Map<string, { at: number; except?: string | undefined }>();
  readonly #access: TableAccess;
  readonly #events = new EventBatches();

  constructor(access: TableAccess) {
    this.#access = access;
  }

  /** Users with at least one bound session (diagnostics: it must shrink back as sessions end). */
  get userCount(): number {
    return this.#users.size;
  }

  /** Where events go, in batches: at most one call per event-loop turn (setImmediate). */
  onEvents(deliver: EventReceiver): void {
    this.#events.listen(deliver);
  }

  bind(sid: string, userId: string, label: string | undefined, now: number): SessionBinding | null {
    const packed = this.#access.live(sid, now);
    if (packed === undefined) return null;
    const old = this.#access.extras(sid)?.binding;
    if (old?.userId === userId) {
      if (label === undefined || label === old.label) return publicBinding(old);
      const relabelled = { ...old, label };
      this.#access.setBinding(sid, packed, relabelled);
      return publicBinding(relabelled);
    }
    if (old) this.#unindex(sid, old);
    const handle = randomBytes(16).toString('base64url');
    const binding: Binding =
      label === undefined ? { userId, handle, boundAt: now } : { userId, handle, label, boundAt: now };
    this.#access.setBinding(sid, packed, binding);
    this.#index(sid, binding);
    this.#emit('created', binding, 'login');
    return publicBinding(binding);
  }

  sessionsOf(userId: string, now: number): UserSessionInfo[] {
    const list: UserSessionInfo[] = [];
    // Deleting from a Map while iterating it is safe: an expired session found here leaves the index at once.
    for (const sid of this.#users.get(userId)?.values() ?? []) {
      const packed = this.#access.live(sid, now);
      const binding = packed === undefined ? undefined : this.#access.extras(sid)?.binding;
      if (packed === undefined || !binding) continue;
      list.push({
        handle: binding.handle,
        createdAt: createdAt(packed),
        lastSeenAt: idleExpiresAt(packed) - idleTimeoutMs(packed),
        expiresAt: expiresAt(packed),
        ...(binding.label === undefined ? {} : { label: binding.label }),
      });
    }
    return list;
  }

  revoke(userId: string, handle: string, now: number): boolean {
    this.#remember(`h:${handle}`, now);
    const sid = this.#users.get(userId)?.get(handle);
    const packed = sid === undefined ? undefined : this.#access.live(sid, now);
    if (packed === undefined || sid === undefined) return false;
    this.#access.remove(sid, packed, 'revoke');
    return true;
  }

  revokeUser(userId: string, except: string | undefined, now: number): number {
    this.#remember(`u:${userId}`, now, except);
    let removed = 0;
    for (const [handle, sid] of this.#users.get(userId) ?? []) {
      if (handle === except) continue;
      const packed = this.#access.live(sid, now);
      if (packed === undefined) continue;
      this.#access.remove(sid, packed, 'revoke');
      removed++;
    }
    return removed;
  }

  /** True when a record arriving from another table (rename) was bound before a revocation that covers it. */
  revokedInTransit(binding: Binding): boolean {
    const byHandle = this.#tombstones.get(`h:${binding.handle}`);
    if (byHandle && binding.boundAt <= byHandle.at) return true;
    const byUser = this.#tombstones.get(`u:${binding.userId}`);
    return byUser !== undefined && binding.boundAt <= byUser.at && byUser.except !== binding.handle;
  }

  /** A bound record entered the table (created by a rename's put, or put back). */
  added(sid: string, binding: Binding): void {
    this.#index(sid, binding);
  }

  /** A bound record left the table; an event unless it only moves. */
  removed(sid: string, binding: Binding, packed: string, reason: Removal): void {
    this.#unindex(sid, binding);
    if (reason === undefined) return;
    if (reason === 'expired') {
      const absolute = absoluteExpiresAt(packed) <= idleExpiresAt(packed);
      this.#emit('expired', binding, absolute ? 'absolute' : 'idle');
    } else if (reason === 'capacity') this.#emit('evicted', binding, 'capacity');
    else this.#emit('destroyed', binding, reason);
  }

  #index(sid: string, binding: Binding): void {
    let sessions = this.#users.get(binding.userId);
    if (!sessions) {
      sessions = new Map();
      this.#users.set(binding.userId, sessions);
    }
    sessions.set(binding.handle, sid);
  }

  #unindex(sid: string, binding: Binding): void {
    const sessions = this.#users.get(binding.userId);
    if (sessions?.get(binding.handle) !== sid) return;
    sessions.delete(binding.handle);
    if (sessions.size === 0) this.#users.delete(binding.userId);
  }

  #remember(key: string, now: number, except?: string): void {
    // Revocations are rare: forgetting the old tombstones on each one keeps the map small without a timer.
    for (const [old, { at }] of this.#tombstones) if (now - at > TOMBSTONE_MS) this.#tombstones.delete(old);
    this.#tombstones.set(key, { at: now, except });
  }

  #emit(type: SessionEvent['type'], binding: Binding, reason: SessionEvent['reason']): void {
    if (this.#events.listening)
      this.#events.add({ type, handle: binding.handle, userId: binding.userId, reason });
  }
}
