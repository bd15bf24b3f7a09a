import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import type { SessionEvent } from '../src/providers/provider.js';
import { generateSid } from '../src/sid.js';
import { freshSchemaName, TestProviders, testPool } from './support/postgres.js';
import { Clock } from './support/session-helpers.js';

// What is particular to 'postgres' in issue 13 (users, timeouts and events themselves run in the contract
// suite, test/contract/postgres.test.ts; two processes in test/postgres-users-processes.test.ts).
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const SHORT = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const providers = new TestProviders(testPool(6), 'users');
const { pool, provider } = providers;
afterAll(() => providers.close());

/**
 * The entries of the user index after `VACUUM` (its `reltuples`, exact after a vacuum that cleaned the index),
 * vacuuming again until they are `expected` or a deadline passes: another test's open snapshot on the server
 * may keep dead rows a moment longer.
 */
async function vacuumedIndexEntries(schema: string, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await pool.query(`VACUUM (INDEX_CLEANUP ON) "${schema}".shard_sessions`);
    const { rows } = await pool.query(
      `SELECT reltuples FROM pg_class WHERE oid = '"${schema}".shard_sessions_user_id'::regclass`,
    );
    const held = Number(rows[0].reltuples);
    if (held === expected || Date.now() > deadline) return held;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("'postgres': a user's sessions", () => {
  it('the user index shrinks back as bound sessions expire; unbound sessions never enter it', async () => {
    const clock = new Clock(1_700_000_000_000);
    const schemaName = freshSchemaName('shrink');
    const built = provider({ schemaName, now: clock.now, gcBatchSize: 100 });
    const events: SessionEvent[] = [];
    let deliveries = 0;
    built.onEvents((batch) => {
      deliveries++;
      events.push(...batch);
    });
    const unbound = Array.from({ length: 100 }, () => generateSid());
    await Promise.all(unbound.map((sid) => built.init(sid, LONG)));
    const bound = Array.from({ length: 250 }, () => generateSid());
    await Promise.all(bound.map((sid) => built.init(sid, SHORT)));
    await Promise.all(bound.map((sid, i) => built.bindUser(sid, `user-${i % 50}`)));
    expect(await built.sessionsOf('user-7')).toHaveLength(5);
    const { rows: before } = await pool.query(
      `SELECT count(*)::int AS n FROM "${schemaName}".shard_sessions WHERE user_id IS NOT NULL`,
    );
    expect(before[0].n).toBe(250);
    expect(await vacuumedIndexEntries(schemaName, 250)).toBe(250);

    clock.advance(SHORT.idleTimeoutMs);
    expect(await built.gc()).toBe(250);
    for (let i = 0; i < 50; i++) expect(await built.sessionsOf(`user-${i}`)).toEqual([]);
    expect(await vacuumedIndexEntries(schemaName, 0)).toBe(0);
    expect(await built.count()).toBe(100); // the unbound sessions are all there, and were never in the index
    // One expiry event per bound session, from the GC's statements: 250 created + 250 expired, in batches.
    const deadline = Date.now() + 5000;
    while (events.length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(events.filter((e) => e.type === 'expired' && e.reason === 'idle')).toHaveLength(250);
    expect(new Set(events.filter((e) => e.type === 'expired').map((e) => e.handle)).size).toBe(250);
    expect(deliveries).toBeLessThan(20);
  });

  it('a login racing with log out everywhere: a binding issued before the call ends, one issued after survives', async () => {
    const built = provider();
    const [before, after, other] = [generateSid(), generateSid(), generateSid()];
    await Promise.all([before, after, other].map((sid) => built.init(sid, LONG)));
    await built.bindUser(other, 'ann');
    const bindingBefore = built.bindUser(before, 'ann'); // issued, not awaited
    const revoking = built.revokeUser('ann');
    const bindingAfter = built.bindUser(after, 'ann');
    expect(await revoking).toBe(2);
    expect(await bindingBefore).not.toBeNull();
    expect((await bindingAfter)?.userId).toBe('ann');
    expect(await built.read(before)).toBeNull();
    expect(await built.read(other)).toBeNull();
    expect((await built.read(after))?.binding?.userId).toBe('ann');
    expect((await built.sessionsOf('ann')).map((s) => s.handle)).toEqual([(await bindingAfter)?.handle]);
  });

  it('a revocation meets an expired session of the user: removed with its expired event, not counted', async () => {
    const clock = new Clock(1_700_000_000_000);
    const built = provider({ now: clock.now });
    const events: SessionEvent[] = [];
    built.onEvents((batch) => events.push(...batch));
    const [stale, live] = [generateSid(), generateSid()];
    await built.init(stale, SHORT);
    await built.init(live, LONG);
    await built.bindUser(stale, 'ann');
    await built.bindUser(live, 'ann');
    clock.advance(SHORT.idleTimeoutMs);
    expect((await built.sessionsOf('ann')).length).toBe(1);
    expect(await built.revokeUser('ann')).toBe(1);
    const deadline = Date.now() + 5000;
    while (events.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(events.map((e) => `${e.type}:${e.reason}`).sort()).toEqual([
      'created:login',
      'created:login',
      'destroyed:revoke',
      'expired:idle',
    ]);
  });
});

describe("'postgres': a database of schema 1 (before issue 13)", () => {
  it('is upgraded in place on first use: its sessions keep their values and can be bound; schema 1 functions still work', async () => {
    const schemaName = freshSchemaName('upgrade');
    providers.dropLater(schemaName);
    const v1 = readFileSync(new URL('./fixtures/postgres/schema-v1.sql', import.meta.url), 'utf8');
    await pool.query(v1.replaceAll('schema_v1_fixture', schemaName));
    const q = (name: string) => `"${schemaName}"."shard_sessions_${name}"`;
    const now = Date.now();
    const old = generateSid();
    // A session stored by a process of the previous release (its init function, as its batches call it).
    await pool.query(`SELECT * FROM ${q('init_v1')}($1, $2, $3, $4, $5, $6)`, [
      old,
      now,
      LONG.idleTimeoutMs,
      LONG.absoluteTimeoutMs,
      ['user'],
      [Buffer.from(encodeValue('ann'))],
    ]);

    const built = provider({ schemaName });
    const snapshot = await built.read(old);
    expect(decodeValue(snapshot?.values.get('user') as Uint8Array)).toBe('ann');
    expect(snapshot?.binding).toBeUndefined();
    expect(snapshot?.idleTimeoutMs).toBeUndefined();
    const binding = await built.bindUser(old, 'ann', 'laptop');
    expect((await built.sessionsOf('ann')).map((s) => s.handle)).toEqual([binding?.handle]);
    const { rows: index } = await pool.query(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'shard_sessions_user_id'`,
      [schemaName],
    );
    expect(index[0].indexdef).toMatch(/WHERE \(user_id IS NOT NULL\)/);

    // A process of the previous release, still running during a rolling deploy, commits through its own
    // functions: the binding stays (it is in the row), and the new process reads both.
    await pool.query(`SELECT * FROM ${q('commit_v1')}($1, $2, $3, $4, '{}', 1000, 1048576)`, [
      old,
      now + 1,
      ['seen'],
      [Buffer.from(encodeValue(true))],
    ]);
    const after = await built.read(old);
    expect(after?.binding).toEqual(binding);
    expect(decodeValue(after?.values.get('seen') as Uint8Array)).toBe(true);

    // Starting again on the upgraded table changes nothing (and takes no ACCESS EXCLUSIVE lock: see user-sql.ts).
    const again = provider({ schemaName });
    expect((await again.read(old))?.binding).toEqual(binding);
  });
});
