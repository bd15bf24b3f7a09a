import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/providers/provider.js';
import { resolveLimits } from '../../src/providers/provider-options.js';
import { SessionTable } from '../../src/providers/session-table.js';
import { generateSid } from '../../src/sid.js';

const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const T = 1_700_000_000_000;

/** Two tables standing for two shards: a cross-shard rename takes from one and puts into the other. */
function shards() {
  return [new SessionTable(resolveLimits()), new SessionTable(resolveLimits())] as const;
}

describe('the user index of a table', () => {
  it('drops a bound record revoked while it moved between shards; spares the excepted one', () => {
    const [from, to] = shards();
    const [a, b, a2, b2] = [generateSid(), generateSid(), generateSid(), generateSid()];
    from.init(a, POLICY, undefined, T);
    from.init(b, POLICY, undefined, T);
    from.users.bind(a, 'ann', undefined, T);
    const kept = from.users.bind(b, 'ann', undefined, T)?.handle;
    const movingA = from.take(a, T + 1);
    const movingB = from.take(b, T + 1);
    // "Log out everywhere but b" reaches both shards while a and b are in transit.
    expect(from.users.revokeUser('ann', kept, T + 2) + to.users.revokeUser('ann', kept, T + 2)).toBe(0);
    expect(to.put(a2, movingA as never, T + 3)).toBeNull();
    expect(to.holds(a2)).toBe(false);
    expect(to.put(b2, movingB as never, T + 3)).not.toBeNull();
    expect(to.users.sessionsOf('ann', T + 3).map((s) => s.handle)).toEqual([kept]);
  });

  it('a binding applied after the revocation (a racing login) survives it, and tombstones are forgotten', () => {
    const [from, to] = shards();
    const sid = generateSid();
    to.users.revokeUser('ann', undefined, T);
    from.init(sid, POLICY, undefined, T + 1);
    from.users.bind(sid, 'ann', undefined, T + 1);
    const record = from.take(sid, T + 2);
    expect(to.put(generateSid(), record as never, T + 2)).not.toBeNull();
    expect(to.users.sessionsOf('ann', T + 2)).toHaveLength(1);
  });

  it('emits one event per bound session removed, none for unbound ones, none for a move', async () => {
    const [table] = shards();
    const events: SessionEvent[] = [];
    table.users.onEvents((batch) => events.push(...batch));
    const sids = Array.from({ length: 5 }, () => generateSid());
    for (const sid of sids) table.init(sid, POLICY, undefined, T);
    for (const sid of sids.slice(0, 3)) table.users.bind(sid, 'bob', undefined, T);
    table.rename(sids[0] as string, generateSid(), T + 1);
    table.destroy(sids[1] as string, T + 1);
    table.destroy(sids[3] as string, T + 1);
    table.sweep(T + POLICY.idleTimeoutMs + 10);
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => `${e.type}:${e.reason}`).sort()).toEqual([
      'created:login',
      'created:login',
      'created:login',
      'destroyed:destroy',
      'expired:idle',
      'expired:idle',
    ]);
    expect(table.users.userCount).toBe(0);
  });
});
