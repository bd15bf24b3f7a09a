import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManager } from '../src/index.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import { generateSid } from '../src/sid.js';
import { type Listening, listen } from './support/session-helpers.js';

// Edges of the manager that mutation testing found no test for: destroy() on a request that never started a
// session and carries no live id, the unawaited-failure count of stats(), and a throwing event listener.

const POLICY = { idleTimeoutMs: 60 * 60_000, absoluteTimeoutMs: 24 * 60 * 60_000 };

describe('manager edges', () => {
  let manager: SessionManager | undefined;
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    await manager?.close();
    server = undefined;
    manager = undefined;
  });

  it('destroy() without start(): no id, or ids none of which is live, destroys nothing and resolves', async () => {
    const m = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    manager = m;
    const live = generateSid();
    await m.provider.init(live, POLICY, {});
    server = await listen((req, res) => {
      m.destroy(req, res).then(
        () => res.end('destroyed'),
        (error: Error) => {
          res.statusCode = 500;
          res.end(error.message);
        },
      );
    });
    for (const cookie of [undefined, `sid=${generateSid()}; sid=${generateSid()}`]) {
      const response = await fetch(server.url, { headers: cookie === undefined ? {} : { cookie } });
      expect(await response.text(), cookie).toBe('destroyed');
      expect(response.status, cookie).toBe(200);
    }
    expect(await m.provider.read(live)).not.toBeNull();
    expect(await m.count()).toBe(1);
  });

  it('stats() counts the failures of unawaited commits', async () => {
    const m = createSessionManager({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      onError: () => undefined,
    });
    manager = m;
    expect((await m.stats()).unawaitedCommitFailures).toBe(0);
  });

  it('a listener that throws goes to onError, like a failed unawaited commit', async () => {
    const reported: unknown[] = [];
    const memory = createMemoryProvider({ gcIntervalMs: 0 });
    const m = createSessionManager({ provider: memory, onError: (error) => reported.push(error) });
    manager = m;
    const failure = new Error('listener failed');
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    m.on('created', () => {
      delivered();
      throw failure;
    });
    const sid = generateSid();
    await memory.init(sid, POLICY, {});
    await memory.bindUser(sid, 'ann');
    await done;
    expect(reported).toEqual([failure]);
    expect((await m.stats()).unawaitedCommitFailures).toBe(1);
  });
});
