import { freshSchema, POSTGRES_SERVICE } from './postgres-util.js';
import type { BenchServer, ServerContext } from './protocol.js';
import { shardServer } from './shard.js';

/** shard-session's 'postgres' provider on node:http, in a schema of its own on the bench's database. */
export async function createShardPostgresServer(context: ServerContext): Promise<BenchServer> {
  const url = context.serviceUrl ?? POSTGRES_SERVICE.defaultUrl;
  const schema = await freshSchema(url, 'shard');
  const server = await shardServer({ provider: 'postgres', connectionString: url, schemaName: schema.name })(
    context,
  );
  return {
    ...server,
    close: async () => {
      await server.close();
      await schema.drop();
    },
  };
}
