import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessionManager } from '../src/manager.js';
import type { SessionEvent } from '../src/providers/provider.js';
import { generateSid } from '../src/sid.js';
import { lineReader } from './support/child-lines.js';
import { DATABASE_URL, dropSchema, freshSchemaName, testPool } from './support/postgres.js';

// Two app processes over one database (issue 13): each sees the other's sessions of a user, a "log out
// everywhere" in one ends the other's, and each event is emitted once, by the process whose statement ended the
// session. The child loads the build (npm test builds first).
const entry = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));
const pool = testPool(2);
const schemaName = freshSchemaName('users_processes');
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

afterAll(async () => {
  await dropSchema(pool, schemaName);
  await pool.end();
});

/**
 * The other process: binds two sessions of 'ann' and prints their handles and the handles `sessionsOf('ann')`
 * lists; on a line of input, revokes every session of 'ann' and prints how many and the events it heard.
 */
const CHILD = `
  const { createSessionManager } = await import(${JSON.stringify(pathToFileURL(entry).href)});
  const manager = createSessionManager({
    provider: 'postgres',
    providerOptions: { connectionString: ${JSON.stringify(DATABASE_URL)}, schemaName: ${JSON.stringify(schemaName)} },
  });
  const events = [];
  for (const type of ['created', 'destroyed', 'expired', 'evicted']) manager.on(type, (e) => events.push(e));
  const handles = [];
  for (const sid of ${JSON.stringify([generateSid(), generateSid()])}) {
    await manager.provider.init(sid, ${JSON.stringify(LONG)});
    handles.push((await manager.provider.bindUser(sid, 'ann')).handle);
  }
  const listed = (await manager.sessionsOf('ann')).map((s) => s.handle);
  process.stdout.write(JSON.stringify({ handles, listed }) + '\\n');
  process.stdin.once('data', async () => {
    const revoked = await manager.revokeUser('ann');
    const deadline = Date.now() + 5000;
    while (events.filter((e) => e.type === 'destroyed').length < revoked && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    process.stdout.write(JSON.stringify({ revoked, events }) + '\\n');
    await manager.close();
  });`;

describe.skipIf(!existsSync(entry))("'postgres': a user's sessions across processes", () => {
  it("two processes list one user's sessions; log out everywhere from one ends the other's; each event is emitted once, where it happened", async () => {
    const manager = createSessionManager({
      provider: 'postgres',
      providerOptions: { connectionString: DATABASE_URL, schemaName },
    });
    const heard: SessionEvent[] = [];
    for (const type of ['created', 'destroyed', 'expired', 'evicted'] as const)
      manager.on(type, (e) => heard.push(e));
    const provider = manager.provider;
    const [a1, a2, bob] = [generateSid(), generateSid(), generateSid()];
    for (const sid of [a1, a2, bob]) await provider.init(sid, LONG);
    const mine = [
      (await provider.bindUser?.(a1, 'ann'))?.handle,
      (await provider.bindUser?.(a2, 'ann'))?.handle,
    ];
    await provider.bindUser?.(bob, 'bob');
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      const lines = lineReader(child);
      const first = JSON.parse((await lines.until(1))[0] as string) as {
        handles: string[];
        listed: string[];
      };
      const everyone = [...mine, ...first.handles].sort();
      expect(first.listed.sort()).toEqual(everyone);
      expect((await manager.sessionsOf('ann')).map((s) => s.handle).sort()).toEqual(everyone);

      child.stdin.end('revoke\n');
      const second = JSON.parse((await lines.until(2))[1] as string) as {
        revoked: number;
        events: SessionEvent[];
      };
      expect(second.revoked).toBe(4);
      expect(await provider.read(a1)).toBeNull();
      expect(await provider.read(a2)).toBeNull();
      expect(await manager.sessionsOf('ann')).toEqual([]);
      expect((await provider.read(bob))?.binding?.userId).toBe('bob');
      // The revoking process heard the end of all four, this one's included: once each, there.
      const ended = second.events.filter((e) => e.type === 'destroyed');
      expect(ended.map((e) => `${e.userId}:${e.reason}:${e.handle}`).sort()).toEqual(
        everyone.map((handle) => `ann:revoke:${handle}`).sort(),
      );
      // This process hears its own: its logins, and a destroy it does now (past which nothing else is pending).
      await provider.destroy(bob);
      const deadline = Date.now() + 5000;
      while (!heard.some((e) => e.type === 'destroyed') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      expect(heard.map((e) => `${e.type}:${e.userId}:${e.reason}`)).toEqual([
        'created:ann:login',
        'created:ann:login',
        'created:bob:login',
        'destroyed:bob:destroy',
      ]);
      expect((await exited)[0]).toBe(0);
    } finally {
      child.kill();
      await manager.close();
    }
  }, 60_000);
});
