import { InvalidArgumentError } from './errors.js';

/** Throws `InvalidArgumentError` unless `key` can name a session value: a non-empty string. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError('a session key must be a non-empty string');
  }
}
