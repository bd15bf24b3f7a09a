/** What the PostgreSQL servers of the bench share: the database's URL and a schema per server process. */
import pg from 'pg';

export { POSTGRES_SERVICE } from './registry.js';

/**
 * A schema of this server process's own, empty, and the function that drops it: runs never see each other's
 * sessions, and a run leaves nothing behind.
 */
export async function freshSchema(
  url: string,
  prefix: string,
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `bench_${prefix}_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE; CREATE SCHEMA "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
