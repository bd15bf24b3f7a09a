import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real worker threads and HTTP servers; two cores cannot run many files at once usefully.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
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
