import { describe, expect, it } from 'vitest';
import { SessionExistsError } from '../../src/errors.js';
import type { SessionEvent } from '../../src/providers/provider.js';
import {
  type MoveContext,
  renameAcrossGroups,
  settleStaleMove,
} from '../../src/providers/redis/cluster-rename.js';
import { EventInbox } from '../../src/providers/redis/event-inbox.js';
import { groupOf, KeyLayout } from '../../src/providers/redis/key-layout.js';
import type { RedisLink } from '../../src/providers/redis/redis-link.js';
import { RevokedInTransitReply, StaleMoveReply } from '../../src/providers/redis/replies.js';
import { generateSid } from '../../src/sid.js';

// A rename across slot groups (Redis Cluster), step by step, against a fake link: which function is called
// on which keys with which arguments, and what each failure leads to. cluster.test.ts runs the same steps on
// a real Cluster, including the processes that die between them.

const layout = new KeyLayout('sess:');
type Call = { name: string; keys: readonly string[]; args: readonly (string | Buffer)[] };

/** Two ids in different slot groups. */
function idsInTwoGroups(): [string, string] {
  const oldSid = generateSid();
  let newSid = generateSid();
  while (groupOf(newSid) === groupOf(oldSid)) newSid = generateSid();
  return [oldSid, newSid];
}

function context(answers: Record<string, (call: Call) => unknown>) {
  const calls: Call[] = [];
  const deleted: string[] = [];
  const expired: number[] = [];
  const events: SessionEvent[] = [];
  const inbox = new EventInbox();
  inbox.onEvents((batch) => events.push(...batch));
  const link = {
    fcall: async (name: string, keys: readonly string[], args: readonly (string | Buffer)[]) => {
      const call = { name, keys, args };
      calls.push(call);
      const answer = answers[name];
      if (!answer) throw new Error(`unexpected ${name}`);
      return answer(call);
    },
    command: async (send: (client: { del(key: string): Promise<number> }) => Promise<unknown>) =>
      send({
        del: async (key) => {
          deleted.push(key);
          return 1;
        },
      }),
  } as unknown as RedisLink;
  const ctx: MoveContext = { link, layout, windowMs: 4000, onExpired: (group) => expired.push(group), inbox };
  return { ctx, calls, deleted, expired, events };
}

const frozenHash = (meta: string) => [
  Buffer.from(''),
  Buffer.from(meta, 'latin1'),
  Buffer.from('cart'),
  Buffer.from([1, 2]),
  Buffer.from('ü'),
  Buffer.from('x'),
];
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('redis rename across slot groups', () => {
  it('freezes the old id, puts the copy (binding and all) under the new one, then drops the frozen copy', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const t = context({
      freeze: () => frozenHash(`100 50 150.5 400 9 m=${newSid},5000 u=h,1,alice t=1`),
      put: () => Buffer.from('100 50 1050 400 9 u=h,1,alice t=1', 'latin1'),
      drop: () => 1,
    });
    expect(await renameAcrossGroups(t.ctx, oldSid, newSid, 1000)).toEqual({
      createdAt: 100,
      idleExpiresAt: 1050,
      absoluteExpiresAt: 400,
      expiresAt: 400,
    });
    expect(t.calls.map((c) => c.name)).toEqual(['freeze', 'put', 'drop']);
    expect(t.calls[0]).toEqual({
      name: 'freeze',
      keys: [layout.sessionKey(oldSid)],
      args: [newSid, '1000', '5000'],
    });
    const newGroup = groupOf(newSid);
    expect(t.calls[1]?.keys).toEqual([layout.sessionKey(newSid, newGroup), layout.moveKey(newSid, newGroup)]);
    expect(t.calls[1]?.args).toEqual([
      '1000',
      '100',
      '50',
      '400',
      '9',
      '151', // the earlier deadline, rounded up
      ' u=h,1,alice t=1', // the extras without the move
      'cart',
      Buffer.from([1, 2]),
      'ü',
      Buffer.from('x'),
    ]);
    expect(t.calls[2]).toEqual({ name: 'drop', keys: [layout.sessionKey(oldSid)], args: [newSid] });
    await nextTurn();
    expect(t.deleted).toEqual([layout.moveKey(newSid, newGroup)]);
  });

  it('answers null for a missing session, and counts one the freeze found expired', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const missing = context({ freeze: () => null });
    expect(await renameAcrossGroups(missing.ctx, oldSid, newSid, 1)).toBeNull();
    expect(missing.expired).toEqual([]);
    const expired = context({ freeze: () => 0 });
    expect(await renameAcrossGroups(expired.ctx, oldSid, newSid, 1)).toBeNull();
    expect(expired.expired).toEqual([groupOf(oldSid)]);
    expect(expired.calls).toHaveLength(1);
  });

  it('unfreezes the old id when the put is refused, and rejects as the put did', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const t = context({
      freeze: () => frozenHash('100 50 150 400 9'),
      put: () => {
        throw new SessionExistsError();
      },
      unfreeze: () => {
        throw new Error('the old node does not answer either');
      },
    });
    await expect(renameAcrossGroups(t.ctx, oldSid, newSid, 1)).rejects.toThrow(SessionExistsError);
    expect(t.calls.map((c) => c.name)).toEqual(['freeze', 'put', 'unfreeze']);
    expect(t.calls[2]).toEqual({ name: 'unfreeze', keys: [layout.sessionKey(oldSid)], args: [newSid] });
  });

  it('resolves the committed copy even if dropping the frozen one fails', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const t = context({
      freeze: () => frozenHash('100 50 150 400 9'),
      put: () => Buffer.from('100 50 150 400 9', 'latin1'),
      drop: () => {
        throw new Error('timeout');
      },
    });
    expect(await renameAcrossGroups(t.ctx, oldSid, newSid, 1)).toMatchObject({
      createdAt: 100,
      expiresAt: 150,
    });
    await nextTurn();
    expect(t.deleted).toEqual([]); // the record stays until an access settles the frozen copy
  });

  it('drops a copy revoked in transit and reports its end once, for a bound session only', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const revoked = () => {
      throw new RevokedInTransitReply();
    };
    const bound = context({
      freeze: () => frozenHash('100 50 150 400 9 u=hAndle,1,al%C3%AFce,Ph%C3%B6ne'),
      put: revoked,
      drop: () => {
        throw new Error('the old node is away too');
      },
    });
    expect(await renameAcrossGroups(bound.ctx, oldSid, newSid, 1)).toBeNull();
    expect(bound.calls.map((c) => c.name)).toEqual(['freeze', 'put', 'drop']);
    expect(bound.calls[2]).toEqual({ name: 'drop', keys: [layout.sessionKey(oldSid)], args: [newSid] });
    await nextTurn();
    expect(bound.events).toEqual([
      { type: 'destroyed', handle: 'hAndle', userId: 'alïce', reason: 'revoke' },
    ]);

    const unbound = context({ freeze: () => frozenHash('100 50 150 400 9'), put: revoked, drop: () => 1 });
    expect(await renameAcrossGroups(unbound.ctx, oldSid, newSid, 1)).toBeNull();
    await nextTurn();
    expect(unbound.events).toEqual([]);
  });
});

describe('redis stale move settlement', () => {
  it('unfreezes the old session when no copy was committed (the record is fenced)', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const t = context({ fence: () => Buffer.from('cancelled'), unfreeze: () => 1 });
    await settleStaleMove(t.ctx, oldSid, new StaleMoveReply(newSid, 1234.2));
    expect(t.calls).toEqual([
      { name: 'fence', keys: [layout.moveKey(newSid)], args: ['1235'] },
      { name: 'unfreeze', keys: [layout.sessionKey(oldSid)], args: [newSid] },
    ]);
    await nextTurn();
    expect(t.deleted).toEqual([]);
  });

  it('drops the frozen copy and the record when the copy was committed', async () => {
    const [oldSid, newSid] = idsInTwoGroups();
    const t = context({ fence: () => 'committed', drop: () => 1 });
    await settleStaleMove(t.ctx, oldSid, new StaleMoveReply(newSid, 10));
    expect(t.calls.map((c) => [c.name, c.keys])).toEqual([
      ['fence', [layout.moveKey(newSid)]],
      ['drop', [layout.sessionKey(oldSid)]],
    ]);
    expect(t.calls[1]?.args).toEqual([newSid]);
    await nextTurn();
    expect(t.deleted).toEqual([layout.moveKey(newSid)]);
  });
});
