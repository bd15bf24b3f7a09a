import { defineConfig } from 'vitest/config';

/**
 * The long tier: tests of scale, endurance and packaging, each a quarter of a minute or more on a 2-core
 * machine (a million sessions swept, heap budgets filled to the limit, soak periods, npm pack + install +
 * tsc of a fresh project, the bench harness driving real servers, the bench probes run to their end). They
 * guard what they guard in CI (`npm run test:long`, run by `.ci/run` after `npm test`) and on demand, and stay
 * out of `npm test`, which is the inner loop and stays near two minutes. A file belongs here for its cost, never because it is flaky.
 */
const LONG_TESTS = [
  'test/packaging.test.ts',
  'test/redis/optional-dependency.test.ts',
  'test/sharded-gc.test.ts',
  'test/engine-budget.test.ts',
  'test/engine-count.test.ts',
  'test/engine-soak.test.ts',
  'test/engine-flood.test.ts',
  'test/durable/expiry.test.ts',
  'test/durable/restart-property.test.ts',
  'test/bench.test.ts',
  'test/bench-probes.test.ts',
];

export default defineConfig({
  test: {
    // Tests start real worker threads and HTTP servers; two cores cannot run many files at once usefully.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // `vitest run --project fast` is `npm test`; `--project long` is `npm run test:long`; no flag runs both.
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: LONG_TESTS } },
      { extends: true, test: { name: 'long', include: LONG_TESTS } },
    ],
    // Coverage of the library, printed after every run so that a drop shows in `npm test`. The contract
    // suite (src/testing) is test code: counting it would lift the numbers without covering anything.
    // Shard workers run the build (dist/) in their own threads, which v8 coverage of src/ does not see: the
    // table they run is covered through the 'memory' provider, which runs the same module.
    coverage: {
      enabled: true,
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/testing/**'],
      reporter: ['text-summary'],
    },
  },
});
