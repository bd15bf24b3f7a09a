import { expect } from 'vitest';
import { InvalidArgumentError, InvalidSessionIdError } from '../../errors.js';
import type { SessionEvent, SessionProvider } from '../../providers/provider.js';
import { expectRejection, LONG, newSid, SHORT, setting, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

type Users = Required<Pick<SessionProvider, 'bindUser' | 'sessionsOf' | 'revoke' | 'revokeUser'>>;

/** The provider's 'users' methods; a provider that does not declare `lacks: ['users']` must have all four. */
function users(provider: SessionProvider): Users {
  for (const method of ['bindUser', 'sessionsOf', 'revoke', 'revokeUser'] as const) {
    expect(typeof provider[method], `${method} (or declare lacks: ['users'])`).toBe('function');
  }
  return provider as SessionProvider & Users;
}

/** A user id no other test uses (the suite may share one provider between the tests of a file). */
const newUser = () => `user-${newSid().slice(0, 12)}`;

/** Waits until `events` holds `count` events (they come in batches), with a deadline. */
async function waitForEvents(events: SessionEvent[], count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (events.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** The optional capabilities of issue 13: a user's sessions, per-session timeouts, events of bound sessions. */
export function userCases(h: Harness): void {
  h.test(
    'bindUser binds a session: read reports the binding, sessionsOf lists it by handle (never by id)',
    async () => {
      const { provider, clock } = await h.shared();
      const p = users(provider);
      const [sid, other] = [newSid(), newSid()];
      const user = newUser();
      const created = await provider.init(sid, LONG, setting({ a: 1 }));
      await provider.init(other, LONG);
      const binding = await p.bindUser(sid, user, 'phone');
      expect(binding).toEqual({ userId: user, handle: expect.any(String), label: 'phone' });
      const handle = binding?.handle as string;
      expect(handle).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(handle).not.toBe(sid);
      expect((await provider.read(sid))?.binding).toEqual(binding);
      expect((await provider.read(other))?.binding).toBeUndefined();
      // Binding again to the same user keeps the handle.
      expect((await p.bindUser(sid, user))?.handle).toBe(handle);
      expect(await p.sessionsOf(user)).toEqual([
        {
          handle,
          createdAt: created.createdAt,
          lastSeenAt: clock.now(),
          expiresAt: created.expiresAt,
          label: 'phone',
        },
      ]);
      // A handle is not a session id: it has another shape, and no operation takes it as one.
      await expectRejection(() => provider.read(handle), InvalidSessionIdError, 'read(handle)');
      expect(await p.sessionsOf(newUser())).toEqual([]);
    },
    'users',
  );

  h.test(
    'revoke ends exactly the named session; revokeUser ends every one but `except`; other users keep theirs',
    async () => {
      const { provider } = await h.shared();
      const p = users(provider);
      const [ann, bob] = [newUser(), newUser()];
      const sids = [newSid(), newSid(), newSid(), newSid()];
      for (const sid of sids) await provider.init(sid, LONG, setting({ v: sid }));
      const handles: string[] = [];
      for (const sid of sids.slice(0, 3)) handles.push((await p.bindUser(sid, ann))?.handle as string);
      const bobs = await p.bindUser(sids[3] as string, bob);
      expect(await p.revoke(ann, handles[0] as string)).toBe(true);
      expect(await p.revoke(ann, handles[0] as string)).toBe(false);
      expect(await p.revoke(bob, handles[1] as string)).toBe(false); // another user's handle
      expect(await provider.read(sids[0] as string)).toBeNull();
      expect((await p.sessionsOf(ann)).map((s) => s.handle).sort()).toEqual(handles.slice(1).sort());
      expect(await p.revokeUser(ann, handles[2])).toBe(1);
      expect(await provider.read(sids[1] as string)).toBeNull();
      expect(await valuesOf(provider, sids[2] as string)).toEqual({ v: sids[2] });
      expect(await p.revokeUser(ann)).toBe(1);
      expect(await p.sessionsOf(ann)).toEqual([]);
      expect((await p.sessionsOf(bob)).map((s) => s.handle)).toEqual([bobs?.handle]);
      expect(await valuesOf(provider, sids[3] as string)).toEqual({ v: sids[3] });
    },
    'users',
  );

  h.test(
    'the binding moves with rename and ends with destroy and expiry; an unknown session binds to nothing',
    async () => {
      const { provider, clock } = await h.fresh();
      const p = users(provider);
      const user = newUser();
      const [a, b, renamed, c] = [newSid(), newSid(), newSid(), newSid()];
      await provider.init(a, LONG);
      await provider.init(b, SHORT);
      const handle = (await p.bindUser(a, user))?.handle;
      await p.bindUser(b, user);
      expect(await provider.rename(a, renamed)).not.toBeNull();
      expect((await provider.read(renamed))?.binding?.handle).toBe(handle);
      expect((await p.sessionsOf(user)).length).toBe(2);
      clock.advance(SHORT.idleTimeoutMs);
      await provider.gc();
      expect((await p.sessionsOf(user)).map((s) => s.handle)).toEqual([handle]);
      await provider.destroy(renamed);
      expect(await p.sessionsOf(user)).toEqual([]);
      expect(await p.bindUser(c, user)).toBeNull();
      expect(await provider.read(c)).toBeNull();
    },
    'users',
  );

  h.test(
    'a session bound without a label reads back with exactly its user and handle, and no own timeout',
    async () => {
      const { provider } = await h.shared();
      const p = users(provider);
      const sid = newSid();
      const user = newUser();
      await provider.init(sid, LONG, setting({ a: 1 }));
      const binding = await p.bindUser(sid, user);
      const read = await provider.read(sid);
      // No `label: null` or `label: undefined`, no `idleTimeoutMs` (it is only there after setTimeouts).
      expect(read?.binding).toStrictEqual({ userId: user, handle: binding?.handle });
      expect(read !== null && 'idleTimeoutMs' in read).toBe(false);
    },
    'users',
  );

  h.test(
    'user ids, handles and labels of the wrong shape reject InvalidArgumentError',
    async () => {
      const { provider } = await h.shared();
      const p = users(provider);
      const sid = newSid();
      await provider.init(sid, LONG);
      await expectRejection(() => p.bindUser(sid, ''), InvalidArgumentError, 'empty user id');
      await expectRejection(() => p.bindUser(sid, 'u'.repeat(257)), InvalidArgumentError, 'long user id');
      await expectRejection(() => p.bindUser(sid, 'u', 'l'.repeat(201)), InvalidArgumentError, 'long label');
      // Stored as UTF-8 a lone surrogate becomes U+FFFD: 'u\uD800' and 'u\uDC00' would be one user.
      await expectRejection(() => p.bindUser(sid, 'u\uD800'), InvalidArgumentError, 'lone high surrogate');
      await expectRejection(() => p.sessionsOf('\uDC00u'), InvalidArgumentError, 'lone low surrogate');
      await expectRejection(() => p.revokeUser('u\u0000'), InvalidArgumentError, 'U+0000 in a user id');
      await expectRejection(
        () => p.bindUser(sid, 'u', 'phone\uD800'),
        InvalidArgumentError,
        'lone surrogate label',
      );
      // A well-formed pair (an emoji) is one code point: accepted, and kept exactly (a shard copies the text).
      const emojiUser = `${newUser()}\u{1F600}é`;
      await p.bindUser(sid, emojiUser, 'phone \u{1F4F1}');
      expect((await p.sessionsOf(emojiUser)).map((s) => s.label)).toEqual(['phone \u{1F4F1}']);
      await expectRejection(() => p.revoke('u', sid), InvalidArgumentError, 'a session id as a handle');
      await expectRejection(() => p.revokeUser('u', 'short'), InvalidArgumentError, 'bad except');
      await expectRejection(() => p.sessionsOf(7 as unknown as string), InvalidArgumentError, 'number');
    },
    'users',
  );

  h.test(
    'setTimeouts gives one session its own timeouts: the idle one slides from now, the absolute one from creation',
    async () => {
      const { provider, clock } = await h.fresh();
      expect(typeof provider.setTimeouts, "setTimeouts (or declare lacks: ['timeouts'])").toBe('function');
      const setTimeouts = provider.setTimeouts?.bind(provider) as NonNullable<SessionProvider['setTimeouts']>;
      const [long, plain] = [newSid(), newSid()];
      const created = await provider.init(long, SHORT);
      await provider.init(plain, SHORT);
      clock.advance(1000);
      const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000 };
      expect(await setTimeouts(long, policy)).toEqual({
        createdAt: created.createdAt,
        idleExpiresAt: clock.now() + 60_000,
        absoluteExpiresAt: created.createdAt + 120_000,
        expiresAt: clock.now() + 60_000,
      });
      expect((await provider.read(long))?.idleTimeoutMs).toBe(60_000);
      expect((await provider.read(plain))?.idleTimeoutMs).toBeUndefined();
      clock.advance(SHORT.absoluteTimeoutMs);
      expect(await provider.read(plain)).toBeNull();
      expect(await provider.commit(long, {})).not.toBeNull();
      clock.advance(120_000 - SHORT.absoluteTimeoutMs);
      expect(await provider.read(long)).toBeNull();
      expect(await setTimeouts(newSid(), policy)).toBeNull();
    },
    'timeouts',
  );

  h.test(
    'events of bound sessions arrive once each, batched: created, destroyed (destroy, revoke), expired',
    async () => {
      const { provider, clock } = await h.fresh();
      expect(typeof provider.onEvents, "onEvents (or declare lacks: ['events'])").toBe('function');
      const p = users(provider);
      const events: SessionEvent[] = [];
      provider.onEvents?.((batch) => events.push(...batch));
      const user = newUser();
      const [a, b, c, unbound] = [newSid(), newSid(), newSid(), newSid()];
      for (const sid of [a, b, unbound]) await provider.init(sid, LONG);
      await provider.init(c, SHORT);
      const handles: string[] = [];
      for (const sid of [a, b, c]) handles.push((await p.bindUser(sid, user))?.handle as string);
      await provider.destroy(a);
      await p.revoke(user, handles[1] as string);
      await provider.destroy(unbound);
      clock.advance(SHORT.idleTimeoutMs);
      await provider.gc();
      await waitForEvents(events, 6);
      await new Promise((r) => setTimeout(r, 50)); // and nothing more arrives
      const seen = events.map(
        (e) => `${e.type}:${e.reason}:${handles.indexOf(e.handle)}:${e.userId === user}`,
      );
      expect(seen.sort()).toEqual(
        [
          'created:login:0:true',
          'created:login:1:true',
          'created:login:2:true',
          'destroyed:destroy:0:true',
          'destroyed:revoke:1:true',
          'expired:idle:2:true',
        ].sort(),
      );
    },
    'events',
  );
}
