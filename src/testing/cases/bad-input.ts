import { expect } from 'vitest';
import { InvalidArgumentError, InvalidSessionIdError, SessionError } from '../../errors.js';
import type { SessionDelta, SessionPolicy } from '../../providers/provider.js';
import { bytes, expectRejection, LONG, newSid, setting, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

/** Ids as an attacker (or a confused caller) would send them: each must be refused before any lookup. */
function badIds(): [string, unknown][] {
  const sid = newSid();
  return [
    ['empty', ''],
    ['too short', sid.slice(0, 42)],
    ['too long', `${sid}A`],
    ['padded', `${sid}=`],
    ['outside base64url', `${sid.slice(0, 41)}+A`],
    ['with a space', ` ${sid.slice(1)}`],
    ['with a newline', `${sid.slice(0, 42)}\n`],
    ['non-canonical last character', `${sid.slice(0, 42)}B`],
    ['non-ASCII', 'é'.repeat(43)],
    ['a megabyte long', 'A'.repeat(1 << 20)],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['a String object', new String(sid)],
    ['an object that stringifies to an id', { toString: () => sid }],
    ['an array of an id', [sid]],
  ];
}

const badKeys: unknown[] = ['', 42, null, undefined, {}, ['a'], Symbol('key')];

// Falsy non-deltas have a test of their own (below): a provider that tests `if (initial)` lets them through.
const badDeltas: [string, unknown][] = [
  ['a string', 'junk'],
  ['a number', 42],
  ['set not an array', { set: 'a' }],
  ['set an object', { set: { a: bytes(1) } }],
  ['delete not an array', { delete: 'a' }],
  ['an entry without a value', { set: [['a']] }],
  ['an entry of three', { set: [['a', bytes(1), 'x']] }],
  ['an entry that is null', { set: [null] }],
  ['an entry that is a string', { set: ['ab'] }],
  ['key and value swapped', { set: [[bytes(1), 'a']] }],
];

const badValues: [string, unknown][] = [
  ['a string', 'text'],
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['an array of bytes', [1, 2, 3]],
  ['an ArrayBuffer', new ArrayBuffer(3)],
  ['a DataView', new DataView(new ArrayBuffer(3))],
  ['a Uint16Array', new Uint16Array(3)],
  ['an Int8Array', new Int8Array(3)],
  ['a look-alike object', { byteLength: 3, length: 3, 0: 1, 1: 2, 2: 3 }],
  ['a function', () => 1],
];

const badPolicies: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['empty', {}],
  ['zero idle', { idleTimeoutMs: 0, absoluteTimeoutMs: 1000 }],
  ['negative idle', { idleTimeoutMs: -1, absoluteTimeoutMs: 1000 }],
  ['NaN absolute', { idleTimeoutMs: 1000, absoluteTimeoutMs: Number.NaN }],
  ['infinite absolute', { idleTimeoutMs: 1000, absoluteTimeoutMs: Number.POSITIVE_INFINITY }],
  ['a string', { idleTimeoutMs: '1000', absoluteTimeoutMs: 1000 }],
  ['no absolute', { idleTimeoutMs: 1000 }],
];

/**
 * Bad input gets a typed error, always as a rejected promise (never a synchronous throw), and never
 * disturbs another session or another operation issued at the same time.
 */
export function badInputCases(h: Harness): void {
  h.test('ids of the wrong shape reject InvalidSessionIdError in every operation', async () => {
    const { provider } = await h.shared();
    const good = newSid();
    await provider.init(good, LONG, setting({ a: 1 }));
    for (const [what, bad] of badIds()) {
      const id = bad as string;
      const calls: [string, () => Promise<unknown>][] = [
        ['init', () => provider.init(id, LONG)],
        ['read', () => provider.read(id)],
        ['commit', () => provider.commit(id, setting({ a: 2 }))],
        ['incr', () => provider.incr(id, 'n', 1)],
        ['rename from', () => provider.rename(id, newSid())],
        ['rename to', () => provider.rename(good, id)],
        ['destroy', () => provider.destroy(id)],
      ];
      for (const [op, call] of calls) await expectRejection(call, InvalidSessionIdError, `${op}: ${what}`);
    }
    expect(await valuesOf(provider, good)).toEqual({ a: 1 });
  });

  h.test('keys that are not non-empty strings reject InvalidArgumentError', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1 }));
    for (const bad of badKeys) {
      const key = bad as string;
      const what = typeof bad === 'symbol' ? 'a symbol' : (JSON.stringify(bad) ?? String(bad));
      const calls: [string, () => Promise<unknown>][] = [
        ['commit set', () => provider.commit(sid, { set: [[key, bytes(1)]] })],
        ['commit delete', () => provider.commit(sid, { delete: [key] })],
        ['init', () => provider.init(newSid(), LONG, { set: [[key, bytes(1)]] })],
        ['incr', () => provider.incr(sid, key, 1)],
      ];
      for (const [op, call] of calls) await expectRejection(call, InvalidArgumentError, `${op}: ${what}`);
    }
    expect(await valuesOf(provider, sid)).toEqual({ a: 1 });
  });

  h.test('malformed deltas reject InvalidArgumentError and write nothing', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1 }));
    for (const [what, bad] of badDeltas) {
      const delta = bad as SessionDelta;
      await expectRejection(() => provider.commit(sid, delta), InvalidArgumentError, `commit: ${what}`);
      const fresh = newSid();
      await expectRejection(() => provider.init(fresh, LONG, delta), InvalidArgumentError, `init: ${what}`);
      expect(await provider.read(fresh), `init: ${what} created a session`).toBeNull();
    }
    expect(await valuesOf(provider, sid)).toEqual({ a: 1 });
  });

  h.test('deltas that are null or another falsy value reject InvalidArgumentError', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1 }));
    for (const bad of [null, 0, '', false]) {
      const delta = bad as unknown as SessionDelta;
      const what = JSON.stringify(bad);
      await expectRejection(() => provider.commit(sid, delta), InvalidArgumentError, `commit: ${what}`);
      const fresh = newSid();
      await expectRejection(() => provider.init(fresh, LONG, delta), InvalidArgumentError, `init: ${what}`);
      expect(await provider.read(fresh), `init: ${what} created a session`).toBeNull();
    }
    expect(await valuesOf(provider, sid)).toEqual({ a: 1 });
  });

  h.test('values that are not Uint8Array reject InvalidArgumentError and write nothing', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1 }));
    for (const [what, bad] of badValues) {
      // A good key next to the bad one: all or nothing, the good one is not written either.
      const delta = { set: [['good', bytes(2)] as const, ['bad', bad as Uint8Array] as const] };
      await expectRejection(() => provider.commit(sid, delta), InvalidArgumentError, `commit: ${what}`);
      const fresh = newSid();
      await expectRejection(() => provider.init(fresh, LONG, delta), InvalidArgumentError, `init: ${what}`);
      expect(await provider.read(fresh), `init: ${what} created a session`).toBeNull();
    }
    expect(await valuesOf(provider, sid)).toEqual({ a: 1 });
  });

  h.test('malformed policies reject InvalidArgumentError and create nothing', async () => {
    const { provider } = await h.shared();
    for (const [what, bad] of badPolicies) {
      const sid = newSid();
      await expectRejection(() => provider.init(sid, bad as SessionPolicy), InvalidArgumentError, what);
      expect(await provider.read(sid), `${what} created a session`).toBeNull();
    }
  });

  h.test('bad input issued together with good operations fails alone', async () => {
    const { provider } = await h.shared();
    const sids = Array.from({ length: 4 }, () => newSid());
    await Promise.all(sids.map((sid) => provider.init(sid, LONG, setting({ n: 0 }))));
    // Everything in one go, nothing awaited: a provider that batches puts them in the same frames.
    const good: Promise<unknown>[] = [];
    const bad: Promise<unknown>[] = [];
    for (const [i, sid] of sids.entries()) {
      good.push(provider.incr(sid, 'n', 1));
      bad.push(provider.read('not an id'));
      bad.push(provider.commit(sid, { set: [['x', 'not bytes' as unknown as Uint8Array]] }));
      good.push(provider.commit(sid, setting({ i })));
      bad.push(provider.incr(sid, 'n', Number.NaN));
      bad.push(provider.commit(sid, setting({ big: 'x'.repeat(2 * 1024) })));
      bad.push(provider.init(sid, LONG));
      good.push(provider.incr(sid, 'n', 1));
    }
    const settled = await Promise.allSettled([...good, ...bad]);
    expect(settled.slice(0, good.length).map((result) => result.status)).toEqual(good.map(() => 'fulfilled'));
    for (const result of settled.slice(good.length)) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SessionError);
    }
    for (const [i, sid] of sids.entries()) expect(await valuesOf(provider, sid)).toEqual({ i, n: 2 });
  });
}
