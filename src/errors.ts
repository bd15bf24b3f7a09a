/**
 * Every failure shard-session reports is a {@link SessionError} with a stable `code`, so callers can
 * branch on `err.code` (or `instanceof`) instead of parsing messages. Errors raised inside a shard
 * worker cross the thread boundary as `{ code, message }` and are rebuilt here by {@link errorFromCode}.
 */
export class SessionError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The id does not have the shape of a session id (43 base64url characters), or its signature is wrong. */
export class InvalidSessionIdError extends SessionError {
  constructor(message = 'invalid session id') {
    super('ERR_INVALID_SESSION_ID', message);
  }
}

/** An argument has the wrong type or range (a key that is not a string, a value that is not bytes, …). */
export class InvalidArgumentError extends SessionError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** `init` or `rename` named an id that already holds a live session. */
export class SessionExistsError extends SessionError {
  constructor(message = 'a session with this id already exists') {
    super('ERR_SESSION_EXISTS', message);
  }
}

/** The session was destroyed in this request (or vanished from the store during it); it takes no more writes. */
export class SessionDestroyedError extends SessionError {
  constructor(message = 'the session was destroyed') {
    super('ERR_SESSION_DESTROYED', message);
  }
}

/** A value, a session or its key count is over a configured limit. Nothing was written. */
export class SessionTooLargeError extends SessionError {
  constructor(message: string) {
    super('ERR_SESSION_TOO_LARGE', message);
  }
}

/** `incr` found a value under the key that is not a number. Nothing was written. */
export class NotANumberError extends SessionError {
  constructor(message = 'the value under this key is not a number') {
    super('ERR_NOT_A_NUMBER', message);
  }
}

/** Seconds a client is asked to wait after a 503 from an overloaded or unavailable store. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * A failure that passes by itself: the store's queue is full, a shard is restarting, an external store is
 * unreachable, this process is shutting down. It carries what an HTTP error handler needs to say so, in the
 * fields Express's default handler (finalhandler) and Fastify's read: status 503 and a `Retry-After` header. The
 * adapters answer it so themselves when it happens while the session loads; these fields cover one thrown by a
 * handler (`await session.incr(...)`, `save()`), which reaches the framework's error handler.
 */
export abstract class RetryableError extends SessionError {
  readonly statusCode = 503;
  readonly headers: Readonly<Record<string, string>> = { 'Retry-After': String(RETRY_AFTER_SECONDS) };
}

/** A shard's queue of pending operations is full. HTTP adapters answer 503 with Retry-After. */
export class OverloadedError extends RetryableError {
  constructor(message = 'session store overloaded: too many queued operations') {
    super('ERR_OVERLOADED', message);
  }
}

/** The shard that owns the id died while the operation was pending; it is being restarted. */
export class ShardUnavailableError extends RetryableError {
  constructor(message = 'session shard unavailable') {
    super('ERR_SHARD_UNAVAILABLE', message);
  }
}

/**
 * The external store (Redis, PostgreSQL) did not answer in time, or refused the connection. The provider
 * reconnects by itself; HTTP adapters answer 503 with Retry-After.
 */
export class StoreUnavailableError extends RetryableError {
  constructor(message = 'session store unavailable') {
    super('ERR_STORE_UNAVAILABLE', message);
  }
}

/**
 * The durable store (the 'sharded' provider with `dir`) could not do what was asked: the directory cannot be
 * created or written, another process holds it, its file is corrupt, or it is full (`mapSize`, or the disk).
 * `code` says which: `ERR_STORAGE` (I/O, corrupt file), `ERR_STORAGE_LOCKED`, `ERR_STORAGE_FULL`.
 * Nothing falls back to memory: the operation was not done.
 */
export class StorageError extends SessionError {
  constructor(message: string, code: StorageErrorCode = 'ERR_STORAGE') {
    super(code, message);
  }

  /** Any failure of the storage engine as a `StorageError` (one that already is comes back as it is). */
  static of(error: unknown): StorageError {
    if (error instanceof StorageError) return error;
    return new StorageError(`session store: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The codes a {@link StorageError} carries. */
export type StorageErrorCode = 'ERR_STORAGE' | 'ERR_STORAGE_LOCKED' | 'ERR_STORAGE_FULL';

/** The provider or manager was closed. */
export class ClosedError extends RetryableError {
  constructor(message = 'session store is closed') {
    super('ERR_CLOSED', message);
  }
}

/** An option passed to a provider or the manager is invalid. Thrown at construction. */
export class InvalidOptionError extends SessionError {
  constructor(message: string) {
    super('ERR_INVALID_OPTION', message);
  }
}

/** No provider is registered under the name. */
export class UnknownProviderError extends SessionError {
  constructor(name: string) {
    super('ERR_UNKNOWN_PROVIDER', `unknown provider ${JSON.stringify(name)} (forgotten import?)`);
  }
}

/** The provider does not offer the operation (a capability it lacks: users, timeouts or events). */
export class UnsupportedError extends SessionError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED', message);
  }
}

const byCode: Record<string, new (message: string) => SessionError> = {
  ERR_INVALID_SESSION_ID: InvalidSessionIdError,
  ERR_INVALID_ARGUMENT: InvalidArgumentError,
  ERR_SESSION_EXISTS: SessionExistsError,
  ERR_SESSION_DESTROYED: SessionDestroyedError,
  ERR_SESSION_TOO_LARGE: SessionTooLargeError,
  ERR_NOT_A_NUMBER: NotANumberError,
  ERR_OVERLOADED: OverloadedError,
  ERR_SHARD_UNAVAILABLE: ShardUnavailableError,
  ERR_STORE_UNAVAILABLE: StoreUnavailableError,
  ERR_CLOSED: ClosedError,
  ERR_INVALID_OPTION: InvalidOptionError,
  ERR_UNSUPPORTED: UnsupportedError,
};
const storageCodes = new Set<string>(['ERR_STORAGE', 'ERR_STORAGE_LOCKED', 'ERR_STORAGE_FULL']);

/** Rebuilds a typed error from the `{ code, message }` a shard worker sent. Unknown codes stay SessionErrors. */
export function errorFromCode(code: string, message: string): SessionError {
  if (storageCodes.has(code)) return new StorageError(message, code as StorageErrorCode);
  const ErrorClass = Object.hasOwn(byCode, code) ? byCode[code] : undefined;
  return ErrorClass ? new ErrorClass(message) : new SessionError(code, message);
}
