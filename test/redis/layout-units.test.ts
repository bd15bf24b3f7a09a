import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  NotANumberError,
  SessionError,
  SessionExistsError,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../../src/errors.js';
import { DEFAULT_LIMITS } from '../../src/providers/provider-options.js';
import { commitArgs, initialArgs, valuePairs } from '../../src/providers/redis/delta-args.js';
import { GroupCounters, TurnCounter } from '../../src/providers/redis/group-counters.js';
import {
  crc16,
  GROUP_TAGS,
  groupOf,
  KeyLayout,
  SLOT_GROUPS,
  slotOf,
} from '../../src/providers/redis/key-layout.js';
import { resolveRedisOptions } from '../../src/providers/redis/options.js';
import {
  isFunctionNotFound,
  MoveCancelledReply,
  mapRedisError,
  parseHash,
  parseNumber,
  parseSnapshot,
  StaleMoveReply,
  snapshotOf,
} from '../../src/providers/redis/replies.js';
import { generateSid } from '../../src/sid.js';

// The 'redis' provider's pure parts, without a server: the key layout operators read, the replies of the
// functions turned into typed errors and snapshots, the options, and the arguments built from a delta. The
// same parts are exercised against real Redis servers in provider.test.ts and cluster.test.ts.

const bytes = (text: string) => Buffer.from(text);

describe('redis key layout', () => {
  it('computes CRC16-XMODEM as Redis Cluster does (its spec: "123456789" → 0x31C3)', () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(crc16('')).toBe(0);
    expect(crc16('a')).toBe(0x7c87);
    // Redis's own CLUSTER KEYSLOT answers: foo → 12182, bar → 5061.
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('bar')).toBe(5061);
  });

  it('gives each of the 64 slot groups a tag whose slot lies in its own 1/64th of the slot range', () => {
    expect(SLOT_GROUPS).toBe(64);
    expect(GROUP_TAGS).toHaveLength(64);
    expect(new Set(GROUP_TAGS).size).toBe(64);
    GROUP_TAGS.forEach((tag, group) => {
      expect(Math.floor(slotOf(tag) / 256), tag).toBe(group);
    });
    // The first short name in base-36 order: a tag of one character where one fits.
    expect(GROUP_TAGS.every((tag) => /^[0-9a-z]+$/.test(tag))).toBe(true);
    expect(GROUP_TAGS.some((tag) => tag.length === 1)).toBe(true);
  });

  it('puts an id in the group of its first character, in base64url order', () => {
    const id = generateSid();
    expect(groupOf(`A${id.slice(1)}`)).toBe(0);
    expect(groupOf(`Z${id.slice(1)}`)).toBe(25);
    expect(groupOf(`a${id.slice(1)}`)).toBe(26);
    expect(groupOf(`0${id.slice(1)}`)).toBe(52);
    expect(groupOf(`-${id.slice(1)}`)).toBe(62);
    expect(groupOf(`_${id.slice(1)}`)).toBe(63);
  });

  it('names the session, index and move keys under the prefix, with the group tag in braces', () => {
    const layout = new KeyLayout('app:');
    const sid = `b${generateSid().slice(1)}`;
    const tag = GROUP_TAGS[27];
    expect(layout.prefix).toBe('app:');
    expect(layout.sessionKey(sid)).toBe(`app:{${tag}}:${sid}`);
    expect(layout.sessionKey(sid, 3)).toBe(`app:{${GROUP_TAGS[3]}}:${sid}`);
    expect(layout.indexKey(27)).toBe(`app:{${tag}}:expiry`);
    expect(layout.moveKey(sid)).toBe(`app:{${tag}}:move:${sid}`);
    expect(layout.moveKey(sid, 5)).toBe(`app:{${GROUP_TAGS[5]}}:move:${sid}`);
  });
});

describe('redis replies', () => {
  it('maps the functions’ SS… replies to their typed errors', () => {
    expect(mapRedisError(new Error('SSEXISTS'))).toBeInstanceOf(SessionExistsError);
    const tooLarge = mapRedisError(new Error('SSTOOLARGE the session would be 9 bytes'));
    expect(tooLarge).toBeInstanceOf(SessionTooLargeError);
    expect(tooLarge.message).toBe('the session would be 9 bytes');
    const nan = mapRedisError(new Error('SSNAN the value of "n" is not a number'));
    expect(nan).toBeInstanceOf(NotANumberError);
    expect(nan.message).toBe('the value of "n" is not a number');
    const moving = mapRedisError(new Error('SSMOVING newsid 1234')) as StaleMoveReply;
    expect(moving).toBeInstanceOf(StaleMoveReply);
    expect(moving).toBeInstanceOf(StoreUnavailableError);
    expect(moving.target).toBe('newsid');
    expect(moving.deadline).toBe(1234);
    expect(moving.message).toBe(
      'session store unavailable: a rename across slot groups left this session frozen',
    );
    const cancelled = mapRedisError(new Error('SSCANCELLED'));
    expect(cancelled).toBeInstanceOf(MoveCancelledReply);
    expect(cancelled.message).toBe('session store unavailable: the rename was cancelled by a recovery');
  });

  it('maps every other failure to StoreUnavailableError, and keeps a SessionError as it is', () => {
    const down = mapRedisError(new Error('CLUSTERDOWN The cluster is down'));
    expect(down.constructor).toBe(StoreUnavailableError);
    expect(down.message).toBe('session store unavailable: Redis: CLUSTERDOWN The cluster is down');
    expect(mapRedisError('Connection is closed.').message).toBe(
      'session store unavailable: Redis: Connection is closed.',
    );
    const own = new SessionExistsError();
    expect(mapRedisError(own)).toBe(own);
    const other = new SessionError('ERR_X', 'x');
    expect(mapRedisError(other)).toBe(other);
  });

  it('recognises Redis’s "function not found" answer, with or without its ERR prefix', () => {
    expect(isFunctionNotFound(new Error('ERR Function not found'))).toBe(true);
    expect(isFunctionNotFound(new Error('Function not found'))).toBe(true);
    expect(isFunctionNotFound(new Error('NOSCRIPT Function not found'))).toBe(false);
    expect(isFunctionNotFound(new Error('ERR Library not found'))).toBe(false);
    expect(isFunctionNotFound('ERR Function not found')).toBe(false);
  });

  it('parses a hash into its meta and values, and refuses one without meta', () => {
    const flat = [bytes('a'), bytes('1'), bytes(''), bytes('100 50 150 200 7'), bytes('b'), bytes('22')];
    const { meta, values } = parseHash(flat);
    expect(meta.createdAt).toBe(100);
    expect(meta.idleTimeoutMs).toBe(50);
    expect(meta.bytes).toBe(7);
    expect(values).toEqual(
      new Map([
        ['a', bytes('1')],
        ['b', bytes('22')],
      ]),
    );
    expect(parseSnapshot(flat)).toEqual({
      createdAt: 100,
      idleExpiresAt: 150,
      absoluteExpiresAt: 200,
      expiresAt: 150,
      values: new Map([
        ['a', bytes('1')],
        ['b', bytes('22')],
      ]),
    });
    expect(() => parseHash([bytes('a'), bytes('1')])).toThrow(
      new StoreUnavailableError('session store unavailable: a session hash without its meta field'),
    );
    expect(() => parseHash([])).toThrow(StoreUnavailableError);
  });

  it('answers a plain HGETALL: null for nothing, the snapshot while alive, undefined when dead or moving', () => {
    expect(snapshotOf({}, 100)).toBeNull();
    expect(snapshotOf({ a: bytes('1') }, 100)).toBeNull();
    const hash = { '': bytes('100 50 150 300 7'), k: bytes('v') };
    expect(snapshotOf(hash, 149)).toEqual({
      createdAt: 100,
      idleExpiresAt: 150,
      absoluteExpiresAt: 300,
      expiresAt: 150,
      values: new Map([['k', bytes('v')]]),
    });
    expect(snapshotOf(hash, 150)).toBeUndefined();
    expect(snapshotOf({ '': bytes('100 50 150 300 7 m=x,999'), k: bytes('v') }, 120)).toBeUndefined();
  });

  it('reads the numbers incr answers, the infinities in their %.17g spelling', () => {
    expect(parseNumber(bytes('42'))).toBe(42);
    expect(parseNumber(bytes('-0.5'))).toBe(-0.5);
    expect(parseNumber(bytes('1.7976931348623157e+308'))).toBe(Number.MAX_VALUE);
    expect(parseNumber(bytes('inf'))).toBe(Number.POSITIVE_INFINITY);
    expect(parseNumber(bytes('-inf'))).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('redis options', () => {
  const client = { fcallBuffer: async () => null } as never;

  it('fills in the defaults', () => {
    const resolved = resolveRedisOptions();
    expect(resolved).toMatchObject({
      url: undefined,
      cluster: undefined,
      client: undefined,
      clientOptions: undefined,
      prefix: 'sess:',
      operationTimeoutMs: 1000,
      maxQueuedOps: 65_536,
      maxSessionsPerGroup: 0,
    });
  });

  it('keeps what is given, and splits maxSessions over the 64 groups, rounding up', () => {
    const resolved = resolveRedisOptions({
      url: 'rediss://user:pw@host:6380/2',
      prefix: '',
      operationTimeoutMs: 600_000,
      maxQueuedOps: 1,
      maxSessions: 65,
      clientOptions: { tls: {} },
    });
    expect(resolved).toMatchObject({
      url: 'rediss://user:pw@host:6380/2',
      prefix: '',
      operationTimeoutMs: 600_000,
      maxQueuedOps: 1,
      maxSessionsPerGroup: 2,
      clientOptions: { tls: {} },
    });
    expect(resolveRedisOptions({ maxSessions: 64 }).maxSessionsPerGroup).toBe(1);
    expect(resolveRedisOptions({ cluster: ['127.0.0.1:7000', 'redis://h:7001'] }).cluster).toEqual([
      '127.0.0.1:7000',
      'redis://h:7001',
    ]);
    expect(resolveRedisOptions({ client }).client).toBe(client);
    expect(resolveRedisOptions({ prefix: 'p'.repeat(100) }).prefix).toBe('p'.repeat(100));
  });

  it.each([
    [{ url: 'redis://x', cluster: ['h:1'] }, "give the 'redis' provider one of url, cluster and client"],
    [{ url: 'redis://x', client }, 'one of url, cluster and client'],
    [{ cluster: ['h:1'], client }, 'one of url, cluster and client'],
    [{ url: 'http://x' }, 'url must be a redis:// or rediss:// URL, got "http://x"'],
    [{ url: 'redis://' }, 'url must be a redis://'],
    [{ url: 'xredis://h' }, 'url must be a redis://'],
    [{ url: 5 }, 'url must be a redis://'],
    [{ cluster: [] }, 'cluster must be a non-empty array of "host:port" strings'],
    [{ cluster: 'h:1' }, 'cluster must be a non-empty array'],
    [{ cluster: ['h'] }, 'cluster must be a non-empty array'],
    [{ cluster: ['h:1', 'h:x'] }, 'cluster must be a non-empty array'],
    [{ cluster: ['h:1 '] }, 'cluster must be a non-empty array'],
    [{ cluster: ['a/b:1'] }, 'cluster must be a non-empty array'],
    [{ cluster: ['x h:1'] }, 'cluster must be a non-empty array'],
    [{ cluster: [1] }, 'cluster must be a non-empty array'],
    [{ client: {} }, 'client must be an ioredis 6 Redis or Cluster (it has no fcallBuffer method)'],
    [{ client: null }, 'client must be an ioredis 6 Redis or Cluster'],
    [{ clientOptions: null }, 'clientOptions must be an object of ioredis options'],
    [{ clientOptions: 'x' }, 'clientOptions must be an object'],
    [{ prefix: 'a{b' }, 'prefix must be a string of at most 100 characters without { or }'],
    [{ prefix: 'a}' }, 'prefix must be a string'],
    [{ prefix: 'p'.repeat(101) }, 'prefix must be a string'],
    [{ prefix: 3 }, 'prefix must be a string'],
    [{ operationTimeoutMs: 0 }, 'operationTimeoutMs must be an integer from 1 to 600000, got 0'],
    [{ operationTimeoutMs: 600_001 }, 'operationTimeoutMs must be an integer from 1 to 600000'],
    [{ maxQueuedOps: 0 }, 'maxQueuedOps must be an integer >= 1, got 0'],
    [{ shards: 2 }, "unknown option 'shards' of the 'redis' provider"],
  ])('refuses %o', (options, message) => {
    expect(() => resolveRedisOptions(options as never)).toThrow(InvalidOptionError);
    expect(() => resolveRedisOptions(options as never)).toThrow(message);
  });
});

describe('redis delta arguments', () => {
  const limits = { ...DEFAULT_LIMITS, maxValueBytes: 4, maxKeys: 2, maxSessionBytes: 10 };
  const value = (n: number) => new Uint8Array(n).fill(7);

  it('turns initial values into pairs of copies, the last of a key set twice, and counts keys plus values', () => {
    const source = value(2);
    const { pairs, bytes: size } = initialArgs(
      {
        set: [
          ['a', value(1)],
          ['bb', source],
          ['a', value(3)],
        ],
      },
      limits,
    );
    expect(pairs).toEqual(['a', Buffer.from(value(3)), 'bb', Buffer.from(value(2))]);
    expect(size).toBe(1 + 3 + 2 + 2);
    source[0] = 0; // the caller may reuse its array
    expect((pairs[3] as Buffer)[0]).toBe(7);
    expect(initialArgs(undefined, limits)).toEqual({ pairs: [], bytes: 0 });
    expect(initialArgs({ set: [['é', value(1)]] }, limits).bytes).toBe(3); // bytes, not characters
  });

  it('refuses initial values over each limit, exactly at it', () => {
    expect(initialArgs({ set: [['a', value(4)]] }, limits).bytes).toBe(5);
    expect(() => initialArgs({ set: [['a', value(5)]] }, limits)).toThrow(
      new SessionTooLargeError('the value of "a" is 5 bytes, over the limit of 4'),
    );
    expect(() =>
      initialArgs(
        {
          set: [
            ['a', value(1)],
            ['b', value(1)],
            ['c', value(1)],
          ],
        },
        limits,
      ),
    ).toThrow(new SessionTooLargeError('the session would hold 3 keys, over the limit of 2'));
    expect(
      initialArgs(
        {
          set: [
            ['aaaa', value(4)],
            ['bb', value(0)],
          ],
        },
        limits,
      ).bytes,
    ).toBe(10);
    expect(() =>
      initialArgs(
        {
          set: [
            ['aaaa', value(4)],
            ['bbb', value(0)],
          ],
        },
        limits,
      ),
    ).toThrow(new SessionTooLargeError('the session would be 11 bytes, over the limit of 10'));
  });

  it('turns a commit into count, deleted keys, then pairs; checking each value', () => {
    expect(commitArgs({ delete: ['x', 'y'], set: [['a', value(1)]] }, limits)).toEqual([
      '2',
      'x',
      'y',
      'a',
      Buffer.from(value(1)),
    ]);
    expect(commitArgs({}, limits)).toEqual(['0']);
    expect(() => commitArgs({ set: [['a', value(5)]] }, limits)).toThrow(SessionTooLargeError);
    expect(valuePairs(new Map([['k', value(2)]]))).toEqual(['k', Buffer.from(value(2))]);
    expect(Buffer.isBuffer(valuePairs(new Map([['k', value(2)]]))[1])).toBe(true);
  });
});

describe('redis turn counter', () => {
  it('counts operations per group, and one batch per event-loop turn on group 0', async () => {
    const groups = [new GroupCounters(), new GroupCounters()];
    const counter = new TurnCounter(groups);
    counter.note(1);
    counter.note(1);
    counter.note(0);
    expect(groups.map((g) => [g.ops, g.batches])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    counter.note(1);
    expect(groups[0]?.batches).toBe(2);
    expect(groups[1]?.ops).toBe(3);
  });

  it('keeps the number and the longest of the provider’s sweeps', () => {
    const counters = new GroupCounters();
    counters.noteSweep(3);
    counters.noteSweep(1);
    expect(counters.gcSweeps).toBe(2);
    expect(counters.gcMaxSliceMs).toBe(3);
    expect([counters.ops, counters.batches, counters.expired, counters.evicted]).toEqual([0, 0, 0, 0]);
  });
});
