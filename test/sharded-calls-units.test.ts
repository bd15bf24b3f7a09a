import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import type { SessionEvent } from '../src/providers/provider.js';
import { encodeBinding, encodeMeta, Op } from '../src/providers/sharded/protocol.js';
import type { ShardLink } from '../src/providers/sharded/shard-link.js';
import type { ShardThread } from '../src/providers/sharded/shard-thread.js';
import { ShardWatchdog, type WatchedLink } from '../src/providers/sharded/shard-watchdog.js';
import { UserCalls } from '../src/providers/sharded/user-calls.js';
import { generateSid } from '../src/sid.js';

// Two parts of the 'sharded' router that a test can run without threads: the watchdog that finds a stuck
// shard (on a fake clock: its deadlines are real time in production), and the user calls that send a
// binding to the session's shard and merge every shard's answers. sharded-provider.test.ts and
// engine-watchdog.test.ts run them with real threads.

describe('shard watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A link whose oldest frame and thread the test sets; records what the watchdog calls stuck. */
  function watched(thread: Partial<ShardThread> | undefined) {
    const state = { sentAt: undefined as number | undefined, thread: thread as ShardThread | undefined };
    const stuck: { thread: ShardThread; reason: string }[] = [];
    const link: WatchedLink = {
      waitingSince: () => state.sentAt,
      thread: () => state.thread,
      stuck: (t, reason) => stuck.push({ thread: t, reason }),
    };
    return { state, stuck, link };
  }

  it('declares a started thread stuck when its oldest frame is unanswered for shardTimeoutMs, not before', async () => {
    const thread = { readyAt: performance.now(), startedAt: performance.now() - 10 };
    const { state, stuck, link } = watched(thread);
    const dog = new ShardWatchdog(3, 100, link);
    state.sentAt = performance.now();
    dog.arm();
    await vi.advanceTimersByTimeAsync(99);
    expect(stuck).toEqual([]);
    await vi.advanceTimersByTimeAsync(2); // the deadline, then the setImmediate after it
    expect(stuck).toEqual([
      {
        thread,
        reason: 'session shard 3 did not answer within 100 ms (shardTimeoutMs); it is being restarted',
      },
    ]);
  });

  it('gives a thread that is still starting 5 s more, and counts from its start', async () => {
    const thread = { readyAt: undefined, startedAt: performance.now() };
    const { state, stuck, link } = watched(thread);
    const dog = new ShardWatchdog(0, 100, link);
    state.sentAt = performance.now() - 1000; // queued before the thread started: its age counts from the start
    dog.arm();
    await vi.advanceTimersByTimeAsync(5099);
    expect(stuck).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(stuck.map((s) => s.reason)).toEqual([
      'session shard 0 did not start within 5100 ms; it is being restarted',
    ]);
  });

  it('counts a frame sent before the thread was ready from the moment it was', async () => {
    const thread = { readyAt: performance.now() + 50, startedAt: performance.now() };
    const { state, stuck, link } = watched(thread);
    const dog = new ShardWatchdog(1, 100, link);
    state.sentAt = performance.now();
    dog.arm();
    await vi.advanceTimersByTimeAsync(149);
    expect(stuck).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(stuck).toHaveLength(1);
  });

  it('keeps watching the next frame when the oldest was answered in time, and stops when none is left', async () => {
    const { state, stuck, link } = watched({ readyAt: performance.now(), startedAt: 0 });
    const dog = new ShardWatchdog(0, 100, link);
    state.sentAt = performance.now();
    dog.arm();
    await vi.advanceTimersByTimeAsync(60);
    state.sentAt = performance.now(); // the first frame was answered; the next went out now
    await vi.advanceTimersByTimeAsync(40); // the timer fires: the new oldest is 40 ms old
    expect(stuck).toEqual([]);
    await vi.advanceTimersByTimeAsync(59);
    expect(stuck).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(stuck).toHaveLength(1);

    const idle = watched({ readyAt: performance.now(), startedAt: 0 });
    const quiet = new ShardWatchdog(0, 100, idle.link);
    idle.state.sentAt = performance.now();
    quiet.arm();
    idle.state.sentAt = undefined; // everything answered
    await vi.advanceTimersByTimeAsync(1000);
    expect(idle.stuck).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets an answer that waited on the port behind the timer through, rather than restarting the shard', async () => {
    const { state, stuck, link } = watched({ readyAt: performance.now(), startedAt: 0 });
    const dog = new ShardWatchdog(0, 100, link);
    state.sentAt = performance.now();
    dog.arm();
    await vi.advanceTimersByTimeAsync(99);
    vi.advanceTimersToNextTimer(); // the timer fires; its check waits for setImmediate…
    state.sentAt = undefined; // …and the poll phase delivers the answer first
    await vi.runAllTimersAsync();
    expect(stuck).toEqual([]);
  });

  it('arms one timer at a time, none without a thread, and stop() ends it', async () => {
    const none = watched(undefined);
    none.state.sentAt = 0;
    new ShardWatchdog(0, 100, none.link).arm();
    expect(vi.getTimerCount()).toBe(0);

    const { state, stuck, link } = watched({ readyAt: performance.now(), startedAt: 0 });
    const dog = new ShardWatchdog(0, 100, link);
    state.sentAt = performance.now();
    dog.arm();
    await vi.advanceTimersByTimeAsync(50);
    dog.arm(); // a second frame went out: the first deadline still holds
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(51);
    expect(stuck).toHaveLength(1);

    stuck.length = 0;
    state.sentAt = performance.now();
    dog.arm(30);
    dog.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(stuck).toEqual([]);
    dog.arm(30); // stopped means re-armable
    await vi.advanceTimersByTimeAsync(100);
    expect(stuck).toHaveLength(1);
  });
});

describe('sharded user calls', () => {
  const HANDLE = 'abcdefghijklmnopqrstuv';

  function userCalls(answers: { owner?: unknown; every?: unknown[] }) {
    const owned: { sid: string; op: readonly unknown[] }[] = [];
    const everywhere: (readonly unknown[])[] = [];
    const owner = (sid: string) =>
      ({
        call: async (op: readonly unknown[]) => {
          owned.push({ sid, op });
          return answers.owner;
        },
      }) as unknown as ShardLink;
    const every = async (op: readonly unknown[]) => {
      everywhere.push(op);
      return answers.every ?? [];
    };
    return { calls: new UserCalls(owner, every), owned, everywhere };
  }

  it('binds on the session’s shard, with the label or null, and decodes the binding', async () => {
    const sid = generateSid();
    const t = userCalls({ owner: encodeBinding({ userId: 'alice', handle: HANDLE, label: 'Phone' }) });
    expect(await t.calls.bindUser(sid, 'alice', 'Phone')).toEqual({
      userId: 'alice',
      handle: HANDLE,
      label: 'Phone',
    });
    expect(await t.calls.bindUser(sid, 'alice')).toEqual({ userId: 'alice', handle: HANDLE, label: 'Phone' });
    expect(t.owned).toEqual([
      { sid, op: [Op.BindUser, sid, 'alice', 'Phone'] },
      { sid, op: [Op.BindUser, sid, 'alice', null] },
    ]);
    expect(await userCalls({ owner: null }).calls.bindUser(sid, 'alice')).toBeNull();
    await expect(t.calls.bindUser(sid, '')).rejects.toThrow(InvalidArgumentError);
    await expect(t.calls.bindUser(sid, 'alice', 'x'.repeat(201))).rejects.toThrow(/label/);
  });

  it('sets timeouts on the session’s shard and decodes the meta; null for a missing session', async () => {
    const sid = generateSid();
    const t = userCalls({ owner: encodeMeta({ createdAt: 1, idleExpiresAt: 50, absoluteExpiresAt: 40 }) });
    expect(await t.calls.setTimeouts(sid, { idleTimeoutMs: 49, absoluteTimeoutMs: 39 })).toEqual({
      createdAt: 1,
      idleExpiresAt: 50,
      absoluteExpiresAt: 40,
      expiresAt: 40,
    });
    expect(t.owned).toEqual([{ sid, op: [Op.SetTimeouts, sid, 49, 39] }]);
    expect(
      await userCalls({ owner: null }).calls.setTimeouts(sid, { idleTimeoutMs: 1, absoluteTimeoutMs: 1 }),
    ).toBeNull();
    await expect(t.calls.setTimeouts(sid, { idleTimeoutMs: 0, absoluteTimeoutMs: 1 })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('lists a user’s sessions from every shard, five fields each, the label only where there is one', async () => {
    const t = userCalls({
      every: [['h1', 1, 2, 3, null, 'h2', 4, 5, 6, 'Läptop'], [], ['h3', 7, 8, 9, null, 'partial', 1, 2, 3]],
    });
    expect(await t.calls.sessionsOf('alice')).toEqual([
      { handle: 'h1', createdAt: 1, lastSeenAt: 2, expiresAt: 3 },
      { handle: 'h2', createdAt: 4, lastSeenAt: 5, expiresAt: 6, label: 'Läptop' },
      { handle: 'h3', createdAt: 7, lastSeenAt: 8, expiresAt: 9 },
    ]);
    expect(t.everywhere).toEqual([[Op.SessionsOf, 'alice']]);
    await expect(t.calls.sessionsOf('')).rejects.toThrow(InvalidArgumentError);
  });

  it('revokes on every shard: true if any held the session; revokeUser sums, sending except or null', async () => {
    expect(await userCalls({ every: [false, true, false] }).calls.revoke('alice', HANDLE)).toBe(true);
    expect(await userCalls({ every: [false, 1, 'true'] }).calls.revoke('alice', HANDLE)).toBe(false);
    const t = userCalls({ every: [2, 0, 3] });
    expect(await t.calls.revokeUser('alice')).toBe(5);
    expect(await t.calls.revokeUser('alice', HANDLE)).toBe(5);
    await t.calls.revoke('bob', HANDLE);
    expect(t.everywhere).toEqual([
      [Op.RevokeUser, 'alice', null],
      [Op.RevokeUser, 'alice', HANDLE],
      [Op.Revoke, 'bob', HANDLE],
    ]);
    await expect(t.calls.revoke('', HANDLE)).rejects.toThrow(/user id/);
    await expect(t.calls.revoke('alice', 'short')).rejects.toThrow(/handle/);
    await expect(t.calls.revokeUser('')).rejects.toThrow(/user id/);
    await expect(t.calls.revokeUser('alice', 'short')).rejects.toThrow(/handle/);
    expect(t.everywhere).toHaveLength(3);
  });

  it('hands each shard’s batch of events to the receiver as it came, and drops them before there is one', () => {
    const t = userCalls({});
    const event: SessionEvent = { type: 'destroyed', reason: 'revoke', userId: 'alice', handle: HANDLE };
    t.calls.deliver([event]);
    const got: (readonly SessionEvent[])[] = [];
    t.calls.onEvents((events) => got.push(events));
    const batch = [event, event];
    t.calls.deliver(batch);
    expect(got).toEqual([batch]);
    expect(got[0]).toBe(batch);
  });
});
