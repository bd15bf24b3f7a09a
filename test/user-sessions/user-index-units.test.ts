import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/providers/provider.js';
import { resolveLimits } from '../../src/providers/provider-options.js';
import { SessionTable } from '../../src/providers/session-table.js';
import { generateSid } from '../../src/sid.js';

// A table's user index on its own (user-index.test.ts has the transit cases): re-binding and relabelling,
// what sessionsOf lists, revoke's answers, the reason of each event, and how long a revocation is
// remembered. Found by mutation testing: the ground group's suites left these paths unchecked.

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const T = 1_700_000_000_000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function tableWithEvents(limits = resolveLimits()) {
  const table = new SessionTable(limits);
  const events: SessionEvent[] = [];
  table.users.onEvents((batch) => events.push(...batch));
  const session = (now = T) => {
    const sid = generateSid();
    table.init(sid, POLICY, undefined, now);
    return sid;
  };
  return { table, events, session };
}

describe('a table’s user index', () => {
  it('keeps the binding on a re-bind to the same user, relabels it, and replaces it for another user', async () => {
    const { table, events, session } = tableWithEvents();
    const sid = session();
    const first = table.users.bind(sid, 'ann', 'Phone', T);
    expect(first).toEqual({ userId: 'ann', handle: expect.any(String), label: 'Phone' });
    expect(table.users.bind(sid, 'ann', undefined, T + 1)).toEqual(first);
    expect(table.users.bind(sid, 'ann', 'Phone', T + 1)).toEqual(first);
    expect(table.users.bind(sid, 'ann', 'Laptop', T + 2)).toEqual({ ...first, label: 'Laptop' });
    expect(table.users.sessionsOf('ann', T + 2).map((s) => s.label)).toEqual(['Laptop']);
    const bob = table.users.bind(sid, 'bob', undefined, T + 3);
    expect(bob?.handle).not.toBe(first?.handle);
    expect(bob).toStrictEqual({ userId: 'bob', handle: bob?.handle });
    expect(table.users.sessionsOf('ann', T + 3)).toEqual([]);
    expect(table.users.bind(generateSid(), 'ann', undefined, T)).toBeNull();
    await nextTurn();
    expect(events.map((e) => `${e.type}:${e.reason}:${e.userId}`)).toEqual([
      'created:login:ann',
      'created:login:bob',
    ]);
  });

  it('lists a user’s live sessions with when they were last seen, the label only where there is one', () => {
    const { table, session } = tableWithEvents();
    const [a, b, c] = [session(), session(), session()];
    const ha = table.users.bind(a, 'ann', undefined, T)?.handle;
    const hb = table.users.bind(b, 'ann', 'Läptop', T)?.handle;
    table.users.bind(c, 'ann', undefined, T);
    table.commit(a, { set: [['k', new Uint8Array([1])]] }, T + 500);
    table.destroy(c, T + 600);
    expect(table.users.sessionsOf('ann', T + 1000)).toStrictEqual([
      { handle: ha, createdAt: T, lastSeenAt: T + 500, expiresAt: T + 500 + POLICY.idleTimeoutMs },
      { handle: hb, createdAt: T, lastSeenAt: T, expiresAt: T + POLICY.idleTimeoutMs, label: 'Läptop' },
    ]);
    expect(table.users.sessionsOf('ann', T + POLICY.idleTimeoutMs + 1).map((s) => s.handle)).toEqual([ha]);
    expect(table.users.sessionsOf('nobody', T)).toEqual([]);
  });

  it('revoke answers whether it ended a live session; revokeUser counts them, sparing one', async () => {
    const { table, events, session } = tableWithEvents();
    const [a, b, c] = [session(), session(), session()];
    const ha = table.users.bind(a, 'ann', undefined, T)?.handle as string;
    const hb = table.users.bind(b, 'ann', undefined, T)?.handle as string;
    table.users.bind(c, 'ann', undefined, T);
    expect(table.users.revoke('bob', ha, T)).toBe(false);
    expect(table.users.revoke('ann', 'abcdefghijklmnopqrstuv', T)).toBe(false);
    expect(table.users.revoke('ann', ha, T)).toBe(true);
    expect(table.holds(a)).toBe(false);
    expect(table.users.revoke('ann', ha, T)).toBe(false);
    expect(table.users.revokeUser('ann', hb, T)).toBe(1);
    expect(table.users.sessionsOf('ann', T).map((s) => s.handle)).toEqual([hb]);
    // b expired meanwhile (still indexed: no sweep ran): not revoked, and not counted.
    expect(table.users.revoke('ann', hb, T + POLICY.idleTimeoutMs + 1)).toBe(false);
    expect(table.users.revokeUser('ann', undefined, T + POLICY.idleTimeoutMs + 1)).toBe(0);
    await nextTurn();
    expect(events.filter((e) => e.type !== 'created').map((e) => `${e.type}:${e.reason}`)).toEqual([
      'destroyed:revoke',
      'destroyed:revoke',
      'expired:idle',
    ]);
  });

  it('names the timeout that ended a session, and an eviction for capacity', async () => {
    const { table, events, session } = tableWithEvents(resolveLimits({ maxSessions: 2 }));
    const idle = session();
    table.users.bind(idle, 'ann', undefined, T);
    table.sweep(T + POLICY.idleTimeoutMs + 1);
    const absolute = generateSid();
    table.init(absolute, { idleTimeoutMs: 1000, absoluteTimeoutMs: 1000 }, undefined, T);
    table.users.bind(absolute, 'bob', undefined, T);
    table.sweep(T + 1001);
    const evicted = session(T + 2000);
    table.users.bind(evicted, 'cy', undefined, T + 2000);
    session(T + 2001);
    session(T + 2002); // over maxSessions: the one closest to expiry goes
    await nextTurn();
    expect(
      events.filter((e) => e.type !== 'created').map((e) => `${e.type}:${e.reason}:${e.userId}`),
    ).toEqual(['expired:idle:ann', 'expired:absolute:bob', 'evicted:capacity:cy']);
  });

  it('remembers a revocation for a minute: a record bound before it and arriving later is refused, then not', () => {
    const { table } = tableWithEvents();
    const binding = (handle: string, boundAt: number) => ({ userId: 'ann', handle, boundAt });
    const h = 'abcdefghijklmnopqrstuv';
    table.users.revoke('ann', h, T);
    expect(table.users.revokedInTransit(binding(h, T))).toBe(true);
    expect(table.users.revokedInTransit(binding(h, T + 1))).toBe(false);
    expect(table.users.revokedInTransit(binding('another-handle-xxxxxxx', T - 1))).toBe(false);
    // Another revocation a minute later forgets this one (tombstones are swept on each revocation).
    table.users.revoke('bob', 'zzzzzzzzzzzzzzzzzzzzzz', T + 60_000);
    expect(table.users.revokedInTransit(binding(h, T))).toBe(true);
    table.users.revoke('bob', 'zzzzzzzzzzzzzzzzzzzzzz', T + 60_001);
    expect(table.users.revokedInTransit(binding(h, T))).toBe(false);
  });

  it('revokeUser counts only the live sessions it ended: one expired but not yet swept ends as expired', async () => {
    const { table, events, session } = tableWithEvents();
    const gone = session(T);
    const live = session(T + 1000);
    table.users.bind(gone, 'ann', undefined, T);
    table.users.bind(live, 'ann', undefined, T + 1000);
    await nextTurn();
    events.length = 0;
    expect(table.users.revokeUser('ann', undefined, T + POLICY.idleTimeoutMs + 1)).toBe(1);
    expect([table.holds(gone), table.holds(live)]).toEqual([false, false]);
    await nextTurn();
    expect(events.map((e) => `${e.type}:${e.reason}`).sort()).toEqual(['destroyed:revoke', 'expired:idle']);
  });

  it('refuses a record in transit bound at the very millisecond its user was revoked, unless it is the spared one', () => {
    const { table } = tableWithEvents();
    const binding = (handle: string, boundAt: number) => ({ userId: 'ann', handle, boundAt });
    table.users.revokeUser('ann', 'spared-handle-xxxxxxxxx', T);
    expect(table.users.revokedInTransit(binding('abcdefghijklmnopqrstuv', T))).toBe(true);
    expect(table.users.revokedInTransit(binding('abcdefghijklmnopqrstuv', T + 1))).toBe(false);
    expect(table.users.revokedInTransit(binding('spared-handle-xxxxxxxxx', T))).toBe(false);
  });
});
