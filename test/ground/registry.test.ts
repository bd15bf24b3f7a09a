import { describe, expect, it } from 'vitest';
import { InvalidOptionError, UnknownProviderError } from '../../src/errors.js';
import { createMemoryProvider } from '../../src/providers/memory.js';
import { createProvider, register, registeredProviders } from '../../src/registry.js';

describe('the provider registry', () => {
  it('lists the built-in providers in order, and builds one by name with its options', async () => {
    expect(registeredProviders().slice(0, 4)).toEqual(['memory', 'sharded', 'postgres', 'redis']);
    const provider = createProvider('memory', { gcIntervalMs: 0, maxKeys: 1 });
    try {
      expect(await provider.count()).toBe(0);
    } finally {
      await provider.close();
    }
    // The factory's own checks run: an option of another provider is refused.
    expect(() => createProvider('memory', { shards: 2 } as never)).toThrow(InvalidOptionError);
  });

  it('refuses a name never registered with UnknownProviderError', () => {
    expect(() => createProvider('nosuch' as never)).toThrow(UnknownProviderError);
    expect(() => createProvider('toString' as never)).toThrow(UnknownProviderError);
  });

  it('registers a provider under a new name, and refuses a duplicate, an empty name or no factory', async () => {
    const name = `registry-test-${process.pid}`;
    let given: unknown;
    register(
      name as never,
      ((options: unknown) => {
        given = options;
        return createMemoryProvider({ gcIntervalMs: 0 });
      }) as never,
    );
    expect(registeredProviders()).toContain(name);
    expect(registeredProviders().at(-1)).toBe(name);
    const provider = createProvider(name as never, { custom: 1 } as never);
    expect(given).toEqual({ custom: 1 });
    await provider.close();

    expect(() => register(name as never, (() => undefined) as never)).toThrow(
      new InvalidOptionError(`register: provider "${name}" is already registered`),
    );
    expect(() => register('memory' as never, (() => undefined) as never)).toThrow(/already registered/);
    expect(() => register('' as never, (() => undefined) as never)).toThrow(
      new InvalidOptionError('register: provider name must be a non-empty string'),
    );
    expect(() => register(7 as never, (() => undefined) as never)).toThrow(/non-empty string/);
    expect(() => register(`${name}-2` as never, 'factory' as never)).toThrow(
      new InvalidOptionError(`register: provider "${name}-2" has no factory`),
    );
    expect(registeredProviders()).not.toContain(`${name}-2`);
  });
});
