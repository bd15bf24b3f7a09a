import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, it } from 'vitest';
import type { SessionProvider } from '../providers/provider.js';
import { ContractClock } from './clock.js';
import type {
  ContractFactory,
  ContractLimits,
  PropertyOptions,
  ProviderCapability,
  ProviderContractOptions,
} from './options.js';

/**
 * The limits every provider of the suite runs with, small enough for the limit tests to reach them. Only the
 * eviction test asks for another `maxSessions`.
 */
export const CONTRACT_LIMITS: ContractLimits = {
  maxValueBytes: 1024,
  maxSessionBytes: 4096,
  maxKeys: 16,
  maxSessions: 100_000,
};

/** A provider under test, its clock and the limits it was built with. */
export interface Subject {
  readonly provider: SessionProvider;
  readonly clock: ContractClock;
  readonly limits: ContractLimits;
}

/** A provider being built or built, with what must run when it is closed. */
interface Built {
  provider?: SessionProvider;
  readonly cleanups: (() => unknown)[];
}

/**
 * Builds the providers the tests ask for and closes them, per test or per file, and registers each test
 * honouring the provider's declared gaps and known failures.
 */
export class Harness {
  readonly #factory: ContractFactory;
  readonly #options: ProviderContractOptions;
  readonly #titles = new Set<string>();
  #perTest: Built[] = [];
  #shared: Promise<Subject> | undefined;
  #sharedBuilt: Built | undefined;

  constructor(factory: ContractFactory, options: ProviderContractOptions) {
    this.#factory = factory;
    this.#options = options;
    afterEach(() => closeAll(this.#perTest.splice(0)));
    afterAll(() => closeAll(this.#sharedBuilt ? [this.#sharedBuilt] : []));
  }

  /** The property test's settings. */
  get property(): PropertyOptions {
    return this.#options.property ?? {};
  }

  /**
   * A provider the test may share with the file's other tests (scope 'file'): the test uses fresh ids and
   * long timeouts, and never moves the clock. In scope 'test' it is the test's own provider.
   */
  shared(): Promise<Subject> {
    if (this.#options.scope !== 'file') return this.fresh();
    if (!this.#shared) {
      this.#sharedBuilt = { cleanups: [] };
      this.#shared = this.#build(this.#sharedBuilt, CONTRACT_LIMITS);
    }
    return this.#shared;
  }

  /** A provider of the test's own, over empty storage, closed after the test. */
  fresh(limits: Partial<ContractLimits> = {}): Promise<Subject> {
    const built: Built = { cleanups: [] };
    this.#perTest.push(built);
    return this.#build(built, { ...CONTRACT_LIMITS, ...limits });
  }

  /**
   * Registers one test of the contract. Skipped when the provider lacks the capability it `needs`; run as
   * `it.fails` when the provider lists its title under `expectedFailures`.
   */
  test(title: string, body: () => Promise<void>, needs?: ProviderCapability): void {
    if (this.#titles.has(title)) throw new Error(`two contract tests are titled "${title}"`);
    this.#titles.add(title);
    if (needs && this.#options.lacks?.includes(needs)) it.skip(`${title} (lacks ${needs})`, body);
    else if (this.#options.expectedFailures?.[title] !== undefined) it.fails(title, body);
    else it(title, body);
  }

  /** Once every test is registered: an `expectedFailures` entry that names no test is itself a failure. */
  checkExpectedFailures(): void {
    for (const title of Object.keys(this.#options.expectedFailures ?? {})) {
      if (this.#titles.has(title)) continue;
      it(`expectedFailures names a contract test: "${title}"`, () => {
        throw new Error(
          `no contract test is titled "${title}": remove or correct the expectedFailures entry`,
        );
      });
    }
  }

  async #build(built: Built, limits: ContractLimits): Promise<Subject> {
    const clock = new ContractClock();
    const provider = await this.#factory({
      now: clock.now,
      limits,
      namespace: `contract_${randomBytes(6).toString('hex')}`,
      onCleanup: (cleanup) => built.cleanups.push(cleanup),
    });
    built.provider = provider;
    return { provider, clock, limits };
  }
}

/** Closes each provider (close is idempotent: a test may have closed it already), then runs its cleanups. */
async function closeAll(built: readonly Built[]): Promise<void> {
  for (const { provider, cleanups } of built) {
    try {
      await provider?.close();
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }
  }
}
