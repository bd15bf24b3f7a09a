import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import {
  ClosedError,
  InvalidArgumentError,
  InvalidSessionIdError,
  NotANumberError,
  SessionExistsError,
  SessionTooLargeError,
} from '../src/errors.js';
import { createMemoryProvider, type MemoryProvider } from '../src/providers/memory.js';
import { generateSid } from '../src/sid.js';

const policy = { idleTimeoutMs: 1000, absoluteTimeoutMs: 5000 };

describe("'memory' provider", () => {
  let clock = 1_000_000;
  let provider: MemoryProvider;
  const make = (options = {}) => {
    clock = 1_000_000;
    provider = createMemoryProvider({ now: () => clock, gcIntervalMs: 0, ...options });
    return provider;
  };
  afterEach(() => provider?.close());

  it('init, read, commit deltas, delete keys', async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy, { set: [['a', encodeValue(1)]] });
    await p.commit(sid, { set: [['b', encodeValue({ x: [1, 2] })]] });
    await p.commit(sid, { delete: ['a'] });
    const snap = await p.read(sid);
    expect(snap && [...snap.values.keys()]).toEqual(['b']);
    expect(decodeValue(snap?.values.get('b') as Uint8Array)).toEqual({ x: [1, 2] });
  });

  it('never creates a session on read, and refuses a duplicate init', async () => {
    const p = make();
    const sid = generateSid();
    expect(await p.read(sid)).toBeNull();
    expect(await p.commit(sid, { set: [['a', encodeValue(1)]] })).toBeNull();
    expect(await p.incr(sid, 'n', 1)).toBeNull();
    expect(await p.count()).toBe(0);
    await p.init(sid, policy);
    await expect(p.init(sid, policy)).rejects.toBeInstanceOf(SessionExistsError);
  });

  it('slides the idle deadline on commit, and the absolute deadline ends it anyway', async () => {
    const p = make();
    const sid = generateSid();
    const created = await p.init(sid, policy);
    expect(created.expiresAt).toBe(clock + 1000);
    for (let i = 0; i < 4; i++) {
      clock += 900;
      expect(await p.commit(sid, {})).not.toBeNull();
    }
    clock += 900; // 4500 ms after creation: alive by idle, alive by absolute
    expect(await p.read(sid)).not.toBeNull();
    await p.commit(sid, {});
    clock += 600; // 5100 ms: past the absolute deadline
    expect(await p.read(sid)).toBeNull();
  });

  it('expires idle sessions lazily and on gc', async () => {
    const p = make();
    const a = generateSid();
    const b = generateSid();
    await p.init(a, policy);
    await p.init(b, { idleTimeoutMs: 3000, absoluteTimeoutMs: 5000 });
    clock += 1500;
    expect(await p.gc()).toBe(1);
    expect(await p.count()).toBe(1);
    expect(await p.read(a)).toBeNull();
    expect(await p.read(b)).not.toBeNull();
    const [stats] = await p.stats();
    expect(stats?.expired).toBe(1);
  });

  it('incr is atomic and typed', async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy, { set: [['s', encodeValue('text')]] });
    expect(await p.incr(sid, 'n', 2)).toBe(2);
    expect(await p.incr(sid, 'n', -5)).toBe(-3);
    await expect(p.incr(sid, 's', 1)).rejects.toBeInstanceOf(NotANumberError);
    await expect(p.incr(sid, 'n', Number.NaN)).rejects.toBeInstanceOf(InvalidArgumentError);
    const results = await Promise.all(Array.from({ length: 1000 }, () => p.incr(sid, 'c', 1)));
    expect(new Set(results).size).toBe(1000);
    expect(Math.max(...(results as number[]))).toBe(1000);
  });

  it('rename moves the data and kills the old id', async () => {
    const p = make();
    const [a, b, c] = [generateSid(), generateSid(), generateSid()];
    await p.init(a, policy, { set: [['user', encodeValue('ann')]] });
    await p.init(c, policy);
    await expect(p.rename(a, c)).rejects.toBeInstanceOf(SessionExistsError);
    expect(await p.rename(a, b)).not.toBeNull();
    expect(await p.read(a)).toBeNull();
    expect(decodeValue((await p.read(b))?.values.get('user') as Uint8Array)).toBe('ann');
    expect(await p.rename(a, generateSid())).toBeNull();
  });

  it('rejects malformed ids and bad deltas with typed errors, leaving the session unchanged', async () => {
    const p = make({ maxValueBytes: 100, maxSessionBytes: 300, maxKeys: 3 });
    for (const bad of ['', 'short', `${generateSid()}x`, 'a'.repeat(43).replace(/a$/, 'b'), 42, null]) {
      await expect(p.read(bad as string)).rejects.toBeInstanceOf(InvalidSessionIdError);
    }
    const sid = generateSid();
    await p.init(sid, policy, { set: [['a', encodeValue(1)]] });
    await expect(p.commit(sid, { set: [['big', new Uint8Array(101)]] })).rejects.toBeInstanceOf(
      SessionTooLargeError,
    );
    const keys = ['b', 'c', 'd'].map((k) => [k, encodeValue(1)] as const);
    await expect(p.commit(sid, { set: keys })).rejects.toBeInstanceOf(SessionTooLargeError);
    const fat = ['b', 'c', 'd'].map((k) => [k, new Uint8Array(100)] as const);
    await expect(p.commit(sid, { set: fat, delete: ['a'] })).rejects.toBeInstanceOf(SessionTooLargeError);
    await expect(
      p.commit(sid, { set: [['x', 'not bytes' as unknown as Uint8Array]] }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.commit(sid, { set: [['', encodeValue(1)]] })).rejects.toBeInstanceOf(InvalidArgumentError);
    const snap = await p.read(sid);
    expect([...(snap?.values.keys() ?? [])]).toEqual(['a']);
  });

  it('evicts the session closest to expiry at maxSessions, and counts it', async () => {
    const p = make({ maxSessions: 3 });
    const sids = [generateSid(), generateSid(), generateSid(), generateSid()];
    await p.init(sids[0] as string, { idleTimeoutMs: 9000, absoluteTimeoutMs: 9000 });
    await p.init(sids[1] as string, { idleTimeoutMs: 2000, absoluteTimeoutMs: 9000 });
    await p.init(sids[2] as string, { idleTimeoutMs: 5000, absoluteTimeoutMs: 9000 });
    await p.init(sids[3] as string, policy);
    expect(await p.read(sids[1] as string)).toBeNull();
    expect(await p.count()).toBe(3);
    const [stats] = await p.stats();
    expect(stats?.evicted).toBe(1);
  });

  it('rejects everything after close', async () => {
    const p = make();
    await p.close();
    await expect(p.read(generateSid())).rejects.toBeInstanceOf(ClosedError);
    await expect(p.count()).rejects.toBeInstanceOf(ClosedError);
  });

  it('sweeps on its own GC tick', async () => {
    const p = make({ gcIntervalMs: 10 });
    for (let i = 0; i < 100; i++) await p.init(generateSid(), policy);
    clock += 2000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [stats] = await p.stats();
    expect(stats?.sessions).toBe(0);
    expect(stats?.expired).toBe(100);
    expect(stats?.gcSweeps).toBeGreaterThan(0);
  });
});
