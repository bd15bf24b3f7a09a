import { afterEach, describe, expect, it, vi } from 'vitest';
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
    vi.restoreAllMocks();
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

  it('without onError, close() warns about the failures no warning told of yet', async () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const memory = createMemoryProvider({ gcIntervalMs: 0 });
    const m = createSessionManager({ provider: memory, now: () => 0 });
    manager = m;
    let delivered = 0;
    let next!: () => void;
    m.on('created', () => {
      delivered++;
      next();
      throw new Error(`listener failed ${delivered}`);
    });
    for (let i = 0; i < 3; i++) {
      const arrived = new Promise<void>((resolve) => (next = resolve));
      const sid = generateSid();
      await memory.init(sid, POLICY, {});
      await memory.bindUser(sid, `user${i}`);
      await arrived;
    }
    // The first failure warns at once; the two in the same 10 s are counted, and told of at close.
    const warnings = () => spy.mock.calls.map((call) => String(call[0]));
    expect(warnings()).toEqual([
      'a session commit sent as the headers went out failed: Error: listener failed 1',
    ]);
    await m.close();
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatch(
      /^3 session commits .* \(2 not warned about, .*the latest: Error: listener failed 3$/,
    );
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
