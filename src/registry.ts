import { InvalidOptionError, UnknownProviderError } from './errors.js';
import { createMemoryProvider, type MemoryProviderOptions } from './providers/memory.js';
import type { PostgresProviderOptions } from './providers/postgres/options.js';
import { createPostgresProvider } from './providers/postgres/provider.js';
import type { ProviderFactory, SessionProvider } from './providers/provider.js';
import type { RedisProviderOptions } from './providers/redis/options.js';
import { createRedisProvider } from './providers/redis/provider.js';
import { createShardedProvider, type ShardedProviderOptions } from './providers/sharded/provider.js';

/**
 * The options of each registered provider, by name: what makes `providerOptions` typed per provider (a
 * typo such as `{ shard: 2 }` is a type error). A third-party provider adds its entry by declaration
 * merging, next to its `register` call:
 *
 * ```ts
 * declare module 'shard-session' {
 *   interface ProviderOptionsByName { mystore: MyStoreOptions }
 * }
 * register('mystore', (options) => new MyStore(options));
 * ```
 */
export interface ProviderOptionsByName {
  memory: MemoryProviderOptions;
  sharded: ShardedProviderOptions;
  postgres: PostgresProviderOptions;
  redis: RedisProviderOptions;
}

/** A name `register` has been told about (by the built-ins, or by declaration merging). */
export type ProviderName = keyof ProviderOptionsByName & string;

// Providers are registered by name, like database/sql drivers: the manager names one in its options and a
// storage package makes itself available with one `register` call. The built-in ones are listed here,
// explicitly, rather than registered by a module imported for its side effect.
// biome-ignore lint/suspicious/noExplicitAny: each factory takes its own provider's options.
const factories = new Map<string, ProviderFactory<any>>([
  ['memory', createMemoryProvider],
  ['sharded', createShardedProvider],
  ['postgres', createPostgresProvider],
  ['redis', createRedisProvider],
]);

/** Makes a provider available under `name`. A duplicate name or a missing factory throws `InvalidOptionError`. */
export function register<Name extends ProviderName>(
  name: Name,
  factory: ProviderFactory<ProviderOptionsByName[Name]>,
): void {
  if (typeof name !== 'string' || (name as string) === '') {
    throw new InvalidOptionError('register: provider name must be a non-empty string');
  }
  if (typeof factory !== 'function') {
    throw new InvalidOptionError(`register: provider ${JSON.stringify(name)} has no factory`);
  }
  if (factories.has(name)) {
    throw new InvalidOptionError(`register: provider ${JSON.stringify(name)} is already registered`);
  }
  factories.set(name, factory);
}

/**
 * Builds the provider registered under `name`. Throws `UnknownProviderError` for a name never registered,
 * and the factory's `InvalidOptionError` for a bad or unknown option.
 */
export function createProvider<Name extends ProviderName>(
  name: Name,
  options?: ProviderOptionsByName[Name],
): SessionProvider {
  const factory = factories.get(name);
  if (!factory) throw new UnknownProviderError(name);
  return factory(options);
}

/** The names registered so far, in registration order. */
export function registeredProviders(): string[] {
  return [...factories.keys()];
}
