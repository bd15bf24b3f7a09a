/** What the PostgreSQL servers of the bench share: the database's URL and a schema per server process. */
import pg from 'pg';

export { POSTGRES_SERVICE } from './registry.js';

/**
 * A schema of this server process's own, empty, and the function that drops it, so runs never see each
 * other's sessions. A server the harness had to kill (its close took longer than the harness waits, as a
 * pool draining a load's queued queries can) never dropped its schema: those of processes no longer alive on
 * this machine are dropped here, before the new one is made.
 */
export async function freshSchema(
  url: string,
  prefix: string,
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `bench_${prefix}_${process.pid}`;
  await withClient(url, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
      [`bench\\_${prefix}\\_%`],
    );
    for (const { name: other } of rows) {
      const pid = Number(other.slice(`bench_${prefix}_`.length));
      if (other === name || (Number.isSafeInteger(pid) && !isAlive(pid))) {
        await client.query(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
      }
    }
    await client.query(`CREATE SCHEMA "${name}"`);
  });
  return {
    name,
    drop: () => withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)),
  };
}

async function withClient(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
