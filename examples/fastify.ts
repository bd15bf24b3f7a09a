// The Fastify quick start from the README, runnable: `npm run build && node dist/examples/fastify.js`.
import Fastify from 'fastify';
import { createSessionManager } from 'shard-session';
import { fastifySessionPlugin } from 'shard-session/fastify';

const manager = createSessionManager({ provider: 'sharded' });
const app = Fastify();
await app.register(fastifySessionPlugin, { manager });
app.get('/count', async (request) => String(await request.session.incr('count')));
app.addHook('onClose', () => manager.close());

console.log(
  `listening on ${await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })}/`,
);
process.once('SIGTERM', () => void app.close());
