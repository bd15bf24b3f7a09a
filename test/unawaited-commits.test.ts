import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSessionManager,
  generateSid,
  OverloadedError,
  type SessionManager,
  type SessionManagerBaseOptions,
  type SessionProvider,
} from '../src/index.js';
import { Clock, type Listening, listen, sessionApp } from './support/session-helpers.js';

// Commits sent as the headers go out are not awaited: their failures go to `onError` or, by default, to
// process warnings — the first, then at most one per 10 s that counts the others — and to stats().

let server: Listening | undefined;
let manager: SessionManager | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  await manager?.close();
  server = undefined;
  manager = undefined;
});

/** A memory provider whose writes all fail as an overloaded store's do, naming the id as a careless one might. */
function overloaded(): SessionProvider {
  const inner = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } }).provider;
  const refuse = (sid: string) => Promise.reject(new OverloadedError(`queue full for ${sid}`));
  return {
    init: (sid) => refuse(sid),
    read: (sid) => inner.read(sid),
    commit: (sid) => refuse(sid),
    incr: (...a) => inner.incr(...a),
    rename: (...a) => inner.rename(...a),
    destroy: (...a) => inner.destroy(...a),
    gc: (...a) => inner.gc(...a),
    count: () => inner.count(),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
}

async function start(options: SessionManagerBaseOptions = {}) {
  const m = createSessionManager({ provider: overloaded(), ...options });
  manager = m;
  server = await listen(sessionApp(m));
  return { m, url: server.url };
}

/** Waits (with a deadline) until the manager counted `n` failures: the commits run after the responses. */
async function failuresReach(m: SessionManager, n: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { unawaitedCommitFailures } = await m.stats();
    if (unawaitedCommitFailures >= n || Date.now() > deadline) return unawaitedCommitFailures;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const commitWarnings = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls
    .filter((call) => (call[1] as { code?: string } | undefined)?.code === 'SHARD_SESSION_COMMIT_FAILED')
    .map((call) => String(call[0]));

describe('failures of commits nobody awaits', () => {
  it('warn once, then at most once per 10 s with a count of the others, and never log an id', async () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new Clock();
    const { m, url } = await start({ now: clock.now });
    const sids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`${url}/set?value=${i}`);
      expect(response.status).toBe(200);
      sids.push(((await response.json()) as { id: string }).id);
    }
    expect(await failuresReach(m, 30)).toBe(30);
    expect(commitWarnings(spy)).toHaveLength(1);
    expect(commitWarnings(spy)[0]).toMatch(/OverloadedError: queue full for <id>/);

    clock.advance(9_999);
    await fetch(`${url}/set?value=x`);
    expect(await failuresReach(m, 31)).toBe(31);
    expect(commitWarnings(spy)).toHaveLength(1);

    clock.advance(1);
    await fetch(`${url}/set?value=y`);
    expect(await failuresReach(m, 32)).toBe(32);
    const warnings = commitWarnings(spy);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/^31 session commits .* \(30 not warned about/);
    for (const warning of warnings) for (const sid of sids) expect(warning).not.toContain(sid);
  });

  it('summarise the ones not warned about yet at close', async () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { m, url } = await start({ now: () => 0 });
    for (let i = 0; i < 3; i++) await fetch(`${url}/set?value=${i}`);
    expect(await failuresReach(m, 3)).toBe(3);
    await server?.close();
    server = undefined;
    await m.close();
    expect(commitWarnings(spy)).toHaveLength(2);
    expect(commitWarnings(spy)[1]).toMatch(/^3 session commits/);
  });

  it('all go to onError when there is one (no warning), and are counted in stats() either way', async () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const seen: unknown[] = [];
    const { m, url } = await start({
      onError: (error) => {
        seen.push(error);
        throw new Error('a throwing handler changes nothing');
      },
    });
    for (let i = 0; i < 5; i++) await fetch(`${url}/set?value=${i}`);
    expect(await failuresReach(m, 5)).toBe(5);
    expect(seen).toHaveLength(5);
    expect(seen.every((error) => error instanceof OverloadedError)).toBe(true);
    expect(commitWarnings(spy)).toHaveLength(0);
    const stats = await m.stats();
    expect(stats.unawaitedCommitFailures).toBe(5);
    expect(stats).toHaveLength(1); // still the provider's one entry per shard
  });

  it('an awaited save() failure is the caller’s, not counted', async () => {
    const m = createSessionManager({ provider: overloaded() });
    manager = m;
    server = await listen(async (req, res) => {
      const session = await m.start(req, res);
      session.set('k', 1);
      const failed = await session.save().then(
        () => false,
        () => true,
      );
      res.end(String(failed));
    });
    expect(await (await fetch(server.url, { headers: { cookie: `sid=${generateSid()}` } })).text()).toBe(
      'true',
    );
    expect((await m.stats()).unawaitedCommitFailures).toBe(0);
  });
});
