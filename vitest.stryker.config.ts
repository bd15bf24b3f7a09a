import { defineConfig } from 'vitest/config';

// The test files StrykerJS runs against each mutant (`npm run mutate`): the ones that exercise src/ in this
// process. Left out: the bench, demo, examples and packaging tests (they run dist/ in child processes, which a
// mutant of src/ never reaches). Shard workers run dist/ too: a mutant of the worker or the session table is
// seen through the 'memory' provider, which runs the same table in this thread.
//
// MUTATE_TESTS picks a group (default 'core'): every file of a group runs once before the mutants (Stryker's
// dry run, to learn which test covers what), so the Redis and PostgreSQL suites, which start servers and take
// seconds per test, run only when their modules are mutated:
//   MUTATE_TESTS=redis npm run mutate -- --mutate 'src/providers/redis/key-layout.ts'
const groups: Record<string, string[]> = {
  core: [
    'test/manager.test.ts',
    'test/session.test.ts',
    'test/transport.test.ts',
    'test/transport-units.test.ts',
    'test/transport-options.test.ts',
    'test/transport-precedence.test.ts',
    'test/transport-url-rewrite.test.ts',
    'test/request-session.test.ts',
    'test/http.test.ts',
    'test/cookie-attributes.test.ts',
    'test/cookie-prefixes.test.ts',
    'test/memory-provider.test.ts',
    'test/expiry-index.test.ts',
    'test/expiry-index-model.test.ts',
    'test/number-codec.test.ts',
    'test/packed-record.test.ts',
    'test/codec.test.ts',
    'test/verified-values.test.ts',
    'test/session-view.test.ts',
    'test/session-user.test.ts',
    'test/session-events.test.ts',
    'test/manager-users.test.ts',
    'test/manager-edges.test.ts',
    'test/sharded-provider.test.ts',
    'test/contract/memory.test.ts',
    'test/express-session/store.test.ts',
    'test/ground/*.test.ts',
  ],
  // The session table and the 'memory' provider around it (the shards run the same table from dist/): the files
  // that drive them directly, and the manager over 'memory'. The session, transport and HTTP suites reach
  // them too, but through seconds of HTTP per surviving mutant; this group takes minutes where core takes hours.
  table: [
    'test/memory-provider.test.ts',
    'test/contract/memory.test.ts',
    'test/packed-record.test.ts',
    'test/durable/old-records.test.ts',
    'test/durable/record-codec-units.test.ts',
    'test/expiry-index.test.ts',
    'test/expiry-index-model.test.ts',
    'test/table/*.test.ts',
    'test/user-sessions/user-index.test.ts',
    'test/user-sessions/user-index-units.test.ts',
    'test/sharded-parts-units.test.ts',
    'test/sharded-options-units.test.ts',
    'test/manager.test.ts',
    'test/unawaited-commits.test.ts',
  ],
  // The ground modules (errors, codecs, options, checks, events, user sessions): their own tests. The suites
  // of the manager and the contract reach them too, but run for every surviving mutant of a module every test
  // touches (errors.ts, codec.ts): minutes per mutant on a loaded machine. A lower bound, then.
  ground: [
    'test/ground/*.test.ts',
    'test/number-codec.test.ts',
    'test/number-codec-bytes.test.ts',
    'test/event-batches.test.ts',
    'test/memory-provider.test.ts',
    'test/unawaited-commits.test.ts',
    'test/user-sessions/*.test.ts',
  ],
  // The table's parts (GC tick, user index, event batches, number codec) with every in-process test that reaches
  // them in the fast tier: the session, transport and memory suites, the ground group, the units that batch
  // events or run a shard's user operations on a real table, and the read cache's refresh (it encodes incr's
  // sums). Slower than 'ground', but not a lower bound.
  'table-parts': [
    'test/manager.test.ts',
    'test/session.test.ts',
    'test/request-session.test.ts',
    'test/transport*.test.ts',
    'test/http.test.ts',
    'test/cookie-*.test.ts',
    'test/memory-provider.test.ts',
    'test/unawaited-commits.test.ts',
    'test/gc-tick.test.ts',
    'test/event-batches.test.ts',
    'test/number-codec*.test.ts',
    'test/sharded-parts-units.test.ts',
    'test/sharded-calls-units.test.ts',
    'test/sharded-read-cache-refresh.test.ts',
    'test/postgres-queue-units.test.ts',
    'test/redis/calls-units.test.ts',
    'test/redis/rename-units.test.ts',
    'test/contract/memory.test.ts',
    'test/express-session/store.test.ts',
    'test/ground/*.test.ts',
    'test/user-sessions/*.test.ts',
  ],
  // The ground modules' own unit tests alone: seconds per mutant where the group above takes minutes.
  'ground-units': [
    'test/ground/*.test.ts',
    'test/number-codec.test.ts',
    'test/number-codec-bytes.test.ts',
    'test/event-batches.test.ts',
  ],
  // The store in this process against express-session's MemoryStore; the Express and Fastify apps over HTTP
  // (express-app, fastify-app) add nothing a mutant of the store shows and cost seconds per surviving mutant.
  'express-session': [
    'test/express-session/store.test.ts',
    'test/express-session/memory-store-parity.test.ts',
    'test/express-session/*-units.test.ts',
  ],
  // The node:http, Express and Fastify adapters over real HTTP ('memory' and a failing provider): the core group
  // reaches them too, but with the session suites that take seconds per surviving mutant.
  http: ['test/http.test.ts', 'test/http-adapters-units.test.ts', 'test/ground/http-errors.test.ts'],
  redis: [
    'test/redis/provider.test.ts',
    'test/redis/failures.test.ts',
    'test/redis/cluster.test.ts',
    'test/contract/redis.test.ts',
    'test/contract/redis-cluster.test.ts',
    'test/redis/*-units.test.ts',
  ],
  postgres: [
    'test/postgres-provider.test.ts',
    'test/postgres-failures.test.ts',
    'test/postgres-number-sql.test.ts',
    'test/contract/postgres.test.ts',
    'test/postgres-*-units.test.ts',
  ],
  // The parts of the Redis, PostgreSQL and sharded providers that need no server or thread, alone: a lower
  // bound of their score in seconds (the groups above add the server suites, and take far longer).
  units: [
    'test/redis/*-units.test.ts',
    'test/postgres-*-units.test.ts',
    'test/sharded-*-units.test.ts',
    'test/durable/*-units.test.ts',
  ],
  // The main thread's read cache of 'sharded' (it runs in this process; the shards run dist/).
  'read-cache': [
    'test/sharded-read-cache.test.ts',
    'test/sharded-read-cache-model.test.ts',
    'test/sharded-read-cache-refresh.test.ts',
    'test/contract/sharded-tiny-read-cache.test.ts',
  ],
  // The router's main-thread modules (provider, shard links, the frame codec): the in-process units, the
  // provider's own suite, a link's life around its thread, the read cache's suite (the links wire the cache
  // and the watchdog; ~2 s) and the contract on 2 shards. The shards run dist/, but every frame is built, sent,
  // answered and decoded by src/ in this thread. The rest of 'sharded' (GC, durable) adds minutes per mutant.
  router: [
    'test/sharded-*-units.test.ts',
    'test/sharded-provider.test.ts',
    'test/sharded-link.test.ts',
    'test/sharded-routing.test.ts',
    'test/sharded-read-cache.test.ts',
    'test/contract/sharded-2-shards.test.ts',
  ],
  sharded: [
    'test/sharded-provider.test.ts',
    'test/sharded-gc.test.ts',
    'test/durable/expiry.test.ts',
    'test/contract/sharded-durable.test.ts',
    'test/sharded-*-units.test.ts',
    'test/durable/*-units.test.ts',
  ],
};
const group = process.env.MUTATE_TESTS ?? 'core';
const include = groups[group];
if (include === undefined) {
  throw new Error(`MUTATE_TESTS=${group}: not one of ${Object.keys(groups).join(', ')}`);
}

export default defineConfig({
  test: {
    include,
    // The ground group's suites run on 'memory' and on 'sharded' shards; a shard runs dist/, which no mutant
    // reaches, and under the machine's load its tests are the ones that time out: 'memory' is enough here.
    ...(group === 'ground' ? { testNamePattern: /^((?!sharded).)*$/ } : {}),
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
