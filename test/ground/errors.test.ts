import { describe, expect, it } from 'vitest';
import {
  ClosedError,
  errorFromCode,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidSessionIdError,
  NotANumberError,
  OverloadedError,
  SessionDestroyedError,
  SessionError,
  SessionExistsError,
  SessionTooLargeError,
  ShardUnavailableError,
  StorageError,
  StoreUnavailableError,
  UnknownProviderError,
  UnsupportedError,
} from '../../src/errors.js';

// The errors are the library's contract with its callers (`err.code`, `instanceof`) and with the shard
// workers (a `{ code, message }` rebuilt on the main thread): every class, its code and its default message.
const withDefaults = [
  [InvalidSessionIdError, 'ERR_INVALID_SESSION_ID', 'invalid session id'],
  [SessionExistsError, 'ERR_SESSION_EXISTS', 'a session with this id already exists'],
  [SessionDestroyedError, 'ERR_SESSION_DESTROYED', 'the session was destroyed'],
  [NotANumberError, 'ERR_NOT_A_NUMBER', 'the value under this key is not a number'],
  [OverloadedError, 'ERR_OVERLOADED', 'session store overloaded: too many queued operations'],
  [ShardUnavailableError, 'ERR_SHARD_UNAVAILABLE', 'session shard unavailable'],
  [StoreUnavailableError, 'ERR_STORE_UNAVAILABLE', 'session store unavailable'],
  [ClosedError, 'ERR_CLOSED', 'session store is closed'],
] as const;
const withMessage = [
  [InvalidArgumentError, 'ERR_INVALID_ARGUMENT'],
  [SessionTooLargeError, 'ERR_SESSION_TOO_LARGE'],
  [InvalidOptionError, 'ERR_INVALID_OPTION'],
  [UnsupportedError, 'ERR_UNSUPPORTED'],
] as const;

describe('errors', () => {
  it.each(withDefaults)(
    '%o has its code, its name and a default message that says what failed',
    (Class, code, message) => {
      const error = new Class();
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(Class.name);
      expect(error.message).toBe(message);
      expect(new Class('told').message).toBe('told');
    },
  );

  it.each(withMessage)('%o carries its code and the message it is given', (Class, code) => {
    const error = new Class('what was wrong');
    expect(error.code).toBe(code);
    expect(error.name).toBe(Class.name);
    expect(error.message).toBe('what was wrong');
  });

  it('names the provider an UnknownProviderError is about', () => {
    const error = new UnknownProviderError('mystore');
    expect(error.code).toBe('ERR_UNKNOWN_PROVIDER');
    expect(error.name).toBe('UnknownProviderError');
    expect(error.message).toBe('unknown provider "mystore" (forgotten import?)');
  });

  it('gives a StorageError the code of what failed, ERR_STORAGE by default', () => {
    expect(new StorageError('disk').code).toBe('ERR_STORAGE');
    expect(new StorageError('full', 'ERR_STORAGE_FULL').code).toBe('ERR_STORAGE_FULL');
    expect(new StorageError('locked', 'ERR_STORAGE_LOCKED').message).toBe('locked');
  });

  it('turns any failure of the storage engine into a StorageError, keeping one that already is', () => {
    const full = new StorageError('full', 'ERR_STORAGE_FULL');
    expect(StorageError.of(full)).toBe(full);
    const wrapped = StorageError.of(new Error('MDB_CORRUPTED'));
    expect(wrapped).toBeInstanceOf(StorageError);
    expect(wrapped.code).toBe('ERR_STORAGE');
    expect(wrapped.message).toBe('session store: MDB_CORRUPTED');
    expect(StorageError.of('EIO').message).toBe('session store: EIO');
  });

  it.each([...withDefaults.map(([Class, code]) => [Class, code] as const), ...withMessage])(
    'rebuilds a %o sent by a shard as its own class',
    (Class, code) => {
      const rebuilt = errorFromCode(code, 'from the shard');
      expect(rebuilt).toBeInstanceOf(Class);
      expect(rebuilt.code).toBe(code);
      expect(rebuilt.message).toBe('from the shard');
    },
  );

  it.each(['ERR_STORAGE', 'ERR_STORAGE_LOCKED', 'ERR_STORAGE_FULL'])(
    'rebuilds %s as a StorageError with that code',
    (code) => {
      const rebuilt = errorFromCode(code, 'lmdb said no');
      expect(rebuilt).toBeInstanceOf(StorageError);
      expect(rebuilt.code).toBe(code);
      expect(rebuilt.message).toBe('lmdb said no');
    },
  );

  it.each(['ERR_SOMETHING_NEW', 'toString', '__proto__', 'constructor', ''])(
    'keeps an unknown code %o as a plain SessionError, never a property of the lookup object',
    (code) => {
      const rebuilt = errorFromCode(code, 'unknown');
      expect(rebuilt.constructor).toBe(SessionError);
      expect(rebuilt.code).toBe(code);
      expect(rebuilt.message).toBe('unknown');
    },
  );
});
