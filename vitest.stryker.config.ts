import { defineConfig } from 'vitest/config';

// The test files StrykerJS runs against each mutant (`npm run mutate`): the ones that exercise src/ in this
// process. Left out: the bench, demo, examples and packaging tests (they run dist/ in child processes, which a
// mutant of src/ never reaches) and the Redis and PostgreSQL suites (servers to start, seconds per test).
// Shard workers run dist/ too: a mutant of the worker or the session table is seen through the 'memory'
// provider, which runs the same table in this thread.
export default defineConfig({
  test: {
    include: [
      'test/manager.test.ts',
      'test/session.test.ts',
      'test/transport.test.ts',
      'test/transport-units.test.ts',
      'test/request-session.test.ts',
      'test/http.test.ts',
      'test/cookie-attributes.test.ts',
      'test/memory-provider.test.ts',
      'test/expiry-index.test.ts',
      'test/number-codec.test.ts',
      'test/sharded-provider.test.ts',
      'test/contract/memory.test.ts',
      'test/express-session/store.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
