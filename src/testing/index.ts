/**
 * `shard-session/testing`: the `SessionProvider` contract suite, for vitest. Every built-in provider
 * runs it, and so can yours: one call registers every behaviour of the contract for one provider.
 *
 * ```ts
 * import { describeProvider } from 'shard-session/testing';
 * describeProvider('my provider', (ctx) => createMyProvider({ now: ctx.now, ...ctx.limits }));
 * ```
 *
 * It needs `vitest` and `fast-check` (optional peer dependencies of shard-session).
 * @packageDocumentation
 */
import { describe } from 'vitest';
import { badInputCases } from './cases/bad-input.js';
import { expiryCases } from './cases/expiry.js';
import { incrCases } from './cases/incr.js';
import { lifecycleCases } from './cases/lifecycle.js';
import { limitCases } from './cases/limits.js';
import { orderingCases } from './cases/ordering.js';
import { propertyCases } from './cases/property.js';
import { renameCases } from './cases/rename.js';
import { userCases } from './cases/users.js';
import { Harness } from './harness.js';
import type { ContractFactory, ProviderContractOptions } from './options.js';

export { ContractClock } from './clock.js';
export { CONTRACT_LIMITS } from './harness.js';
export type {
  ContractFactory,
  ContractLimits,
  PropertyOptions,
  ProviderCapability,
  ProviderContext,
  ProviderContractOptions,
} from './options.js';

/**
 * Registers the whole contract suite for one provider, in a `describe` block named `name`: init, read,
 * commit, incr, rename, destroy, gc, count, stats and close; idle and absolute expiry on a controlled clock;
 * per-key merging; limits and their typed errors; eviction; ordering; bad input; and random operation
 * sequences checked against a model of the contract.
 *
 * @param factory Builds a provider over empty storage from the suite's clock and limits; may be async.
 * @param options Per-test or per-file providers, capabilities the provider lacks, property-test runs.
 */
export function describeProvider(
  name: string,
  factory: ContractFactory,
  options: ProviderContractOptions = {},
): void {
  describe(name, { timeout: options.timeoutMs }, () => {
    const harness = new Harness(factory, options);
    describe('init, read, commit, destroy, count, stats, close', () => lifecycleCases(harness));
    describe('expiry', () => expiryCases(harness));
    describe('limits', () => limitCases(harness));
    describe('incr', () => incrCases(harness));
    describe('rename', () => renameCases(harness));
    describe('ordering', () => orderingCases(harness));
    describe('bad input', () => badInputCases(harness));
    describe('users, timeouts, events', () => userCases(harness));
    describe('model', () => {
      propertyCases(harness, !options.lacks?.includes('gcCount'));
      // Nested describe blocks are collected in order, after this one's body: the last one checks the titles.
      harness.checkExpectedFailures();
    });
  });
}
