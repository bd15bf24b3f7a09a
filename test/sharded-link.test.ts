import { describe, expect, it, vi } from 'vitest';
import { ClosedError, InvalidArgumentError, OverloadedError, ShardUnavailableError } from '../src/errors.js';
import { DEFAULT_SHARD_TIMEOUT_MS, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { shardedProvidersPerTest, sidOnShard, within } from './support/sharded.js';
import { threadNames, untilThreadsAtMost } from './support/threads.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// A shard link's life around its thread (shard-link.ts): what holds the process and when, how a frame fills,
// and what a death does while the link closes or restarts. Each test was a surviving mutant (issue 16).

const make = shardedProvidersPerTest();

/** How many of the process's referenced resources (what keeps it alive) are of this kind. */
const held = (kind: 'MessagePort' | 'Timeout') =>
  process.getActiveResourcesInfo().filter((resource) => resource === kind).length;

/** Waits until `done()` holds, checking once per event-loop turn; fails after `ms`. */
async function until(ms: number, what: string, done: () => boolean): Promise<void> {
  const since = performance.now();
  while (!done()) {
    if (performance.now() - since > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The count of a shard restarted after terminateShard: a frame sent before its death was seen fails. */
async function restarted(p: ShardedProvider): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await within(5000, 'the restarted shard', p.count());
    } catch (error) {
      if (!(error instanceof ShardUnavailableError) || attempt === 10) throw error;
    }
  }
}

/**
 * Makes shard 0 answer nothing from now on and sends it an operation, which fails with the death the caller
 * then causes (terminateShard). `atDeath` runs the moment that death is seen, before the new thread starts.
 * Resolves the failure.
 */
function lostAtDeath(p: ShardedProvider, atDeath: () => void): Promise<unknown> {
  p.hangShard(0, 'drop');
  return p.count().catch((error: unknown) => {
    atDeath();
    return error;
  });
}

describe('a shard link', () => {
  // Issue 11: the port is referenced only while an answer is awaited.
  it('holds the process while a frame is unanswered, up to its last answer, and never while idle', async () => {
    // One operation per frame: each call below sends its frame at once.
    const p = make({ maxOpsPerFrame: 1 });
    await p.stats(); // the thread is up (while it starts, its pool holds a port of its own)
    // Counted from here (an earlier test's closed ports may still be counted): the shard is idle now.
    const idle = held('MessagePort');
    const only = p.count();
    expect(held('MessagePort'), 'a busy shard does not hold the process').toBe(idle + 1);
    await only;
    expect(held('MessagePort'), 'still held once the answer came').toBe(idle);
    const first = p.count();
    const second = p.count();
    expect(held('MessagePort'), 'two frames out do not hold the process').toBe(idle + 1);
    await first;
    expect(held('MessagePort'), 'released while a second frame is unanswered').toBe(idle + 1);
    await second;
    expect(held('MessagePort'), 'still held once every answer came').toBe(idle);
  });

  it('sends a frame as soon as it holds maxOpsPerFrame operations', async () => {
    const p = make({ maxOpsPerFrame: 1 });
    const batches = async () => (await p.stats())[0]?.batches ?? 0;
    const before = await batches();
    await Promise.all([p.count(), p.count(), p.count()]);
    // Three frames of one operation, then the frame of the stats call.
    expect((await batches()) - before).toBe(4);
  });

  // The watchdog's timer outlives the frames it was armed for: when it fires with none in flight, it stops.
  it('lets its watchdog fire after every frame was answered, and keeps serving', async () => {
    // Only the timers of this link are faked, from before its first frame arms the watchdog.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let p: ShardedProvider | undefined;
    try {
      p = make();
      expect(await p.count()).toBe(0); // armed, then answered: nothing in flight
      // Past shardTimeoutMs and a starting thread's allowance: the check runs and finds no frame to judge.
      expect(() => vi.advanceTimersByTime(DEFAULT_SHARD_TIMEOUT_MS + 5000)).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
    expect(await p?.count()).toBe(0);
  });

  it('refuses past maxQueuedOps with a message naming the shard and its queue', async () => {
    const p = make({ shards: 2, maxQueuedOps: 2 });
    await p.stats();
    const calls = [p.count(), p.count()];
    await expect(p.count()).rejects.toThrow(
      new OverloadedError('session shard 0 has 2 queued operations (maxQueuedOps)'),
    );
    await Promise.allSettled(calls);
  });
});

describe('a closed link', () => {
  // A cross-shard rename sends its put after the take's answer: a close() in between must neither leave the
  // rename hanging nor lose its session. close() lets it land first (test/durable/rename-close.test.ts checks
  // the files); here: it settles, in time, with the session's meta.
  it('a cross-shard rename that raced close() settles with the session moved', async () => {
    const p = make({ shards: 2 });
    const oldSid = sidOnShard(0, 2);
    await p.init(oldSid, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 });
    // The increment travels in the take's frame and is answered just before it: its callback closes.
    let closing: Promise<void> | undefined;
    const incr = p.incr(oldSid, 'n', 1).then(() => {
      closing = p.close();
    });
    const renamed = p.rename(oldSid, sidOnShard(1, 2));
    await expect(within(5000, 'rename racing close()', renamed)).resolves.toMatchObject({
      idleExpiresAt: expect.any(Number),
    });
    await incr;
    await closing;
  });
});

describe('a shard that dies', () => {
  it('is named in the errors of terminateShard and hangShard when it does not exist', async () => {
    const p = make({ shards: 2 });
    await expect(p.terminateShard(2)).rejects.toThrow(new InvalidArgumentError('terminateShard: no shard 2'));
    expect(() => p.hangShard(-1, 'drop')).toThrow(new InvalidArgumentError('hangShard: no shard -1'));
  });

  it('while the link closes: close() ends, and what the thread held fails', async () => {
    const p = make();
    await p.stats();
    p.hangShard(0, 'drop'); // from this frame on, the shard answers nothing
    const lost = p.count();
    const settled = lost.then(
      () => undefined,
      (error: unknown) => error,
    );
    const closing = p.close(); // waits for the answers to the frames in flight
    await p.terminateShard(0);
    await within(5000, 'close() after the thread died', closing);
    expect(await settled).toBeInstanceOf(ShardUnavailableError);
  });

  it('while it restarts: operations queued meanwhile go to the new thread', async () => {
    const p = make();
    await p.stats();
    // Queued the moment the death is seen (its in-flight operations fail), before the new thread starts.
    let queued: Promise<number> | undefined;
    const lost = lostAtDeath(p, () => {
      queued = p.count();
    });
    await p.terminateShard(0);
    expect(await lost).toBeInstanceOf(ShardUnavailableError);
    expect(await within(5000, 'an operation queued during the restart', queued as Promise<number>)).toBe(0);
  });

  // Linux shows a process's threads in /proc/self/task: a shard restarted after close() would stay there.
  it.skipIf(process.platform !== 'linux')(
    'while it restarts, then the link closes: no new thread starts',
    async () => {
      const p = make();
      await p.stats();
      const running = threadNames().length; // this shard's thread among them
      // Closed the moment the death is seen (its in-flight operations fail), before the new thread starts.
      // An operation queued then waits for the new thread: close() fails it.
      let closing: Promise<void> | undefined;
      let queued: Promise<unknown> | undefined;
      const lost = lostAtDeath(p, () => {
        queued = p.count().then(
          () => 'answered',
          (failure: unknown) => failure,
        );
        closing = p.close();
      });
      const timers = held('Timeout');
      await p.terminateShard(0);
      expect(await lost).toBeInstanceOf(ShardUnavailableError);
      await closing;
      const waiting = within(5000, 'an operation queued for the new thread', queued as Promise<unknown>);
      // Usually the death is seen before the old thread's end resolves, and close() fails what waits for the
      // new one. When the end was already resolved, the restart can win the race by a microtask: the new thread
      // then answers and close() ends it. Either way nothing hangs, and no thread outlives close() (below).
      const outcome = await waiting;
      if (outcome !== 'answered') expect(outcome).toBeInstanceOf(ClosedError);
      await expect(p.count()).rejects.toBeInstanceOf(ClosedError);
      // Until the old thread has ended, a timer holds the process; once it is cleared, the restart was decided.
      await until(5000, 'the dead thread ending', () => held('Timeout') <= timers);
      await untilThreadsAtMost(running - 1, 5000, 'a new shard thread runs after close()');
    },
  );

  it('while it restarts: terminateShard has no thread to end, and resolves', async () => {
    const p = make();
    await p.stats();
    let terminating: Promise<void> | undefined;
    const lost = lostAtDeath(p, () => {
      terminating = p.terminateShard(0); // the death is seen, the new thread not yet started
    });
    await p.terminateShard(0);
    expect(await lost).toBeInstanceOf(ShardUnavailableError);
    await expect(terminating).resolves.toBeUndefined();
    expect(await restarted(p)).toBe(0);
  });

  it('restarts without a timer that overflows (Node clamps it to 1 ms and warns)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const p = make();
      await p.stats();
      await p.terminateShard(0);
      expect(await restarted(p)).toBe(0);
      await new Promise((resolve) => setImmediate(resolve)); // a warning is emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
  });
});
