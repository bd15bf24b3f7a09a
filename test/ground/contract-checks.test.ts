import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidSessionIdError } from '../../src/errors.js';
import {
  checkDelta,
  checkHandle,
  checkIncrAmount,
  checkKey,
  checkLabel,
  checkPolicy,
  checkSid,
  checkUserId,
} from '../../src/providers/contract-checks.js';
import { generateSid } from '../../src/sid.js';

const bytes = new Uint8Array([1]);

describe('the provider contract checks', () => {
  it('checkSid: accepts a generated id, refuses anything else as InvalidSessionIdError', () => {
    expect(() => checkSid(generateSid())).not.toThrow();
    for (const bad of ['', 'x', `${generateSid()}A`, 42, null, undefined]) {
      expect(() => checkSid(bad)).toThrow(InvalidSessionIdError);
    }
  });

  it('checkKey: a non-empty string', () => {
    expect(() => checkKey('a')).not.toThrow();
    for (const bad of ['', 1, null, undefined, {}]) {
      expect(() => checkKey(bad)).toThrow(
        new InvalidArgumentError('a session key must be a non-empty string'),
      );
    }
  });

  it('checkIncrAmount: a finite number', () => {
    for (const good of [0, -1, 0.5, Number.MAX_VALUE]) expect(() => checkIncrAmount(good)).not.toThrow();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1', null, 1n]) {
      expect(() => checkIncrAmount(bad)).toThrow(
        new InvalidArgumentError('incr: the increment must be a finite number'),
      );
    }
  });

  it('checkPolicy: both timeouts positive and finite', () => {
    expect(() => checkPolicy({ idleTimeoutMs: 1, absoluteTimeoutMs: 0.5 })).not.toThrow();
    const message = 'policy.idleTimeoutMs and policy.absoluteTimeoutMs must be positive numbers';
    for (const bad of [
      null,
      undefined,
      'policy',
      {},
      { idleTimeoutMs: 1 },
      { absoluteTimeoutMs: 1 },
      { idleTimeoutMs: 0, absoluteTimeoutMs: 1 },
      { idleTimeoutMs: 1, absoluteTimeoutMs: 0 },
      { idleTimeoutMs: -1, absoluteTimeoutMs: 1 },
      { idleTimeoutMs: 1, absoluteTimeoutMs: Number.POSITIVE_INFINITY },
      { idleTimeoutMs: Number.NaN, absoluteTimeoutMs: 1 },
      { idleTimeoutMs: '1', absoluteTimeoutMs: 1 },
    ]) {
      expect(() => checkPolicy(bad), JSON.stringify(bad)).toThrow(new InvalidArgumentError(message));
    }
  });

  it('checkDelta: sets of [string, bytes] pairs and deletes of strings, both optional', () => {
    for (const good of [{}, { set: [] }, { delete: [] }, { set: [['a', bytes]], delete: ['b'] }]) {
      expect(() => checkDelta(good)).not.toThrow();
    }
    const cases: [unknown, string][] = [
      [null, 'delta must be an object'],
      ['delta', 'delta must be an object'],
      [{ set: 'a' }, 'delta.set and delta.delete must be arrays'],
      [{ delete: 'a' }, 'delta.set and delta.delete must be arrays'],
      [{ delete: [''] }, 'a session key must be a non-empty string'],
      [{ delete: [1] }, 'a session key must be a non-empty string'],
      [{ set: ['a'] }, 'delta.set entries must be [key, value] pairs'],
      [{ set: [['a']] }, 'delta.set entries must be [key, value] pairs'],
      [{ set: [['a', bytes, 'c']] }, 'delta.set entries must be [key, value] pairs'],
      [{ set: [['', bytes]] }, 'a session key must be a non-empty string'],
      [{ set: [['k', 'text']] }, 'the value of "k" must be encoded bytes (Uint8Array)'],
      [{ set: [['k', [1]]] }, 'the value of "k" must be encoded bytes (Uint8Array)'],
    ];
    for (const [bad, message] of cases) {
      expect(() => checkDelta(bad), JSON.stringify(bad)).toThrow(new InvalidArgumentError(message));
    }
  });

  it('checkUserId: a non-empty string of at most 256 characters', () => {
    for (const good of ['u', 'x'.repeat(256)]) expect(() => checkUserId(good)).not.toThrow();
    for (const bad of ['', 'x'.repeat(257), 7, null]) {
      expect(() => checkUserId(bad)).toThrow(
        new InvalidArgumentError('a user id must be a non-empty string of at most 256 characters'),
      );
    }
  });

  it('checkHandle: exactly 22 base64url characters', () => {
    for (const good of ['A'.repeat(22), 'abcdefghij-_0123456789'])
      expect(() => checkHandle(good)).not.toThrow();
    for (const bad of [
      'A'.repeat(21),
      'A'.repeat(23),
      `${'A'.repeat(21)}+`,
      `x${'A'.repeat(22)}`,
      22,
      null,
      ['A'.repeat(22)], // reads like a handle once turned into a string
    ]) {
      expect(() => checkHandle(bad), String(bad)).toThrow(
        new InvalidArgumentError('a session handle must be 22 base64url characters'),
      );
    }
  });

  it('checkLabel: undefined, or a string of at most 200 characters', () => {
    for (const good of [undefined, '', 'x'.repeat(200)]) expect(() => checkLabel(good)).not.toThrow();
    for (const bad of ['x'.repeat(201), null, 3]) {
      expect(() => checkLabel(bad)).toThrow(
        new InvalidArgumentError('a session label must be a string of at most 200 characters'),
      );
    }
  });
});
