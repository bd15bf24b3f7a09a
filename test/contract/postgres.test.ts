import { afterAll } from 'vitest';
import { createPostgresProvider } from '../../src/providers/postgres/provider.js';
import { describeProvider } from '../../src/testing/index.js';
import { dropSchema, testPool } from '../support/postgres.js';

// Every provider the suite builds works in a schema of its own (the suite's namespace), created on first use
// and dropped after. They share one pool: the `pool` option, as an app that already has one would use it.
const pool = testPool(6);
afterAll(() => pool.end());

describeProvider(
  'postgres',
  (ctx) => {
    // 'postgres' does not evict: it refuses maxSessions rather than ignore it (see the options).
    const { maxSessions: _, ...limits } = ctx.limits;
    ctx.onCleanup(() => dropSchema(pool, ctx.namespace));
    return createPostgresProvider({
      pool,
      schemaName: ctx.namespace,
      now: ctx.now,
      gcIntervalMs: 0,
      ...limits,
    });
  },
  { scope: 'file', lacks: ['maxSessions'], property: { runs: 60 } },
);
