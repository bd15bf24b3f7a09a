import { InvalidOptionError, UnknownProviderError } from './errors.js';
import type { ProviderFactory, ProviderOptions, SessionProvider } from './providers/provider.js';

// Providers are registered by name, like database/sql drivers: the manager names one in its options and a
// storage package makes itself available with one `register` call at import time.
const factories = new Map<string, ProviderFactory>();

/** Makes a provider available under `name`. A duplicate name or a missing factory throws. */
export function register(name: string, factory: ProviderFactory): void {
  if (typeof name !== 'string' || name === '') {
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

/** Builds the provider registered under `name`. Throws `UnknownProviderError` for a name never registered. */
export function createProvider(
  name: string,
  options?: ProviderOptions & Record<string, unknown>,
): SessionProvider {
  const factory = factories.get(name);
  if (!factory) throw new UnknownProviderError(name);
  return factory(options);
}

/** The names registered so far, in registration order. */
export function registeredProviders(): string[] {
  return [...factories.keys()];
}
