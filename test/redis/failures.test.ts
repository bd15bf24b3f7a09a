import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OverloadedError, StoreUnavailableError } from '../../src/errors.js';
import { createSessionManager, withSession } from '../../src/index.js';
import { createRedisProvider } from '../../src/providers/redis/provider.js';
import { generateSid } from '../../src/sid.js';
import { RedisServer, waitFor } from '../support/redis-servers.js';
import { Browser, listenServer } from '../support/session-helpers.js';

// Redis going away, for real: SIGKILL mid-load and a restart (empty: no persistence), and SIGSTOP (a server
// that holds the connection and answers nothing). What each test observed is printed for the README.
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const TIMEOUT_MS = 500;

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  startedAt: number;
  ms: number;
  status: number;
  retryAfter: string | null;
}

/** Clients, each with its cookie, asking GET /count one after the other until `running()` is false. */
function load(url: string, clients: number, running: () => boolean, answers: Answer[]): Promise<void> {
  const loops = Promise.all(
    Array.from({ length: clients }, async () => {
      const browser = new Browser(url);
      while (running()) {
        const startedAt = performance.now();
        const response = await browser.fetch('/count');
        await response.text();
        answers.push({
          startedAt,
          ms: performance.now() - startedAt,
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
        });
      }
    }),
  );
  return loops.then(() => undefined);
}

describe('Redis killed under load, then restarted', () => {
  it('answers 503 + Retry-After at once while it is down, none hangs, and recovers by itself', async () => {
    let commitFailures = 0;
    const manager = createSessionManager({
      provider: 'redis',
      providerOptions: { url: server.url, prefix: 'kill:', operationTimeoutMs: TIMEOUT_MS, gcIntervalMs: 0 },
      onError: () => commitFailures++,
    });
    const app = await listenServer(
      createServer(withSession(manager, async (_req, res, session) => res.end(`${await session.incr('n')}`))),
    );
    const answers: Answer[] = [];
    let running = true;
    const clients = load(app.url, 16, () => running, answers);
    try {
      await waitFor(
        '200s before the kill',
        async () => answers.filter((a) => a.status === 200).length >= 200,
      );
      const killedAt = performance.now();
      await server.kill('SIGKILL');
      await waitFor(
        'requests during the outage',
        async () => answers.filter((a) => a.startedAt > killedAt).length >= 200,
      );
      const restartedAt = performance.now();
      await server.restart();
      await waitFor(
        'a 200 after the restart',
        async () => answers.some((a) => a.startedAt > restartedAt && a.status === 200),
        10_000,
      );
      running = false;
      await clients;

      const during = answers.filter((a) => a.startedAt > killedAt && a.startedAt + a.ms < restartedAt);
      const inFlight = answers.filter((a) => a.startedAt <= killedAt && a.startedAt + a.ms > killedAt);
      const firstFailure = Math.min(
        ...answers.filter((a) => a.status === 503).map((a) => a.startedAt + a.ms),
      );
      const recovered = Math.min(
        ...answers
          .filter((a) => a.startedAt > restartedAt && a.status === 200)
          .map((a) => a.startedAt + a.ms),
      );
      const worst = Math.max(...answers.map((a) => a.ms));
      console.info(
        `[redis kill] ${answers.length} requests; in flight at the kill: ${inFlight.length} ` +
          `(${inFlight.filter((a) => a.status === 503).length} got 503); first 503 ${(firstFailure - killedAt).toFixed(0)} ms ` +
          `after the kill; during the outage ${during.length} requests, slowest ${Math.max(...during.map((a) => a.ms)).toFixed(1)} ms; ` +
          `first 200 ${(recovered - restartedAt).toFixed(0)} ms after the restart; slowest request overall ${worst.toFixed(0)} ms; ` +
          `${commitFailures} background commits failed`,
      );
      expect(during.length).toBeGreaterThan(0);
      for (const answer of during) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).toBe('1');
      }
      // Nothing waits longer than the operation timeout (plus the machine's noise).
      expect(worst).toBeLessThan(TIMEOUT_MS + 1500);
      expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    } finally {
      running = false;
      await app.close();
      await manager.close();
    }
  });
});

describe('closing while Redis is away', () => {
  it('resolves within the operation timeout, its reconnection attempts stopped', async () => {
    // A server of its own (the file's is frozen and restarted by the other tests), stopped whatever happens.
    const away = await RedisServer.start();
    try {
      const provider = createRedisProvider({
        url: away.url,
        prefix: 'away:',
        operationTimeoutMs: TIMEOUT_MS,
      });
      await provider.init(generateSid(), LONG);
      away.pause();
      const started = performance.now();
      await provider.close();
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1000);
    } finally {
      await away.stop();
    }
  });
});

describe('Redis frozen (SIGSTOP): connected, answering nothing', () => {
  it('rejects StoreUnavailableError within the timeout, refuses past maxQueuedOps at once, and recovers', async () => {
    const provider = createRedisProvider({
      url: server.url,
      prefix: 'stop:',
      operationTimeoutMs: TIMEOUT_MS,
      maxQueuedOps: 50,
      gcIntervalMs: 0,
    });
    try {
      const sid = generateSid();
      await provider.init(sid, LONG);
      server.pause();
      const started = performance.now();
      const reads = Array.from({ length: 50 }, () =>
        provider.read(sid).then(
          () => 'answered',
          (error: unknown) => ({ error, ms: performance.now() - started }),
        ),
      );
      // The 51st is past maxQueuedOps: refused without being sent, at once.
      const refusedAt = performance.now();
      await expect(provider.read(sid)).rejects.toBeInstanceOf(OverloadedError);
      const refusedMs = performance.now() - refusedAt;
      const settled = await Promise.all(reads);
      const slowest = Math.max(...settled.map((s) => (typeof s === 'string' ? 0 : s.ms)));
      for (const outcome of settled) {
        expect(outcome).toMatchObject({ error: expect.any(StoreUnavailableError) });
      }
      expect(slowest).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
      expect(slowest).toBeLessThan(TIMEOUT_MS + 1000);
      server.resume();
      const resumedAt = performance.now();
      await waitFor('a read after SIGCONT', async () => (await provider.read(sid)) !== null, 10_000);
      console.info(
        `[redis stop] 50 reads rejected StoreUnavailableError after ${slowest.toFixed(0)} ms at most ` +
          `(timeout ${TIMEOUT_MS} ms); the 51st refused OverloadedError in ${refusedMs.toFixed(1)} ms; ` +
          `reads answered again ${(performance.now() - resumedAt).toFixed(0)} ms after SIGCONT`,
      );
    } finally {
      server.resume();
      await provider.close();
    }
  });
});
