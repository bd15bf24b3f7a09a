// The node:http quick start from the README, runnable: `npm run build && node dist/examples/node-http.js`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSessionManager, withSession } from 'shard-session';

type Data = { count: number; user: string };
const manager = createSessionManager<Data>({
  provider: 'sharded',
  idleTimeout: '30m',
  absoluteTimeout: '24h',
});

const server = http.createServer(
  withSession(manager, async (_req, res, session) => {
    const visits = await session.incr('count'); // atomic at the shard owning this session
    const user = session.get('user'); // string | undefined, synchronous
    res.end(`Hello ${user ?? 'stranger'}, visit ${visits}\n`);
  }),
);
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
process.once('SIGTERM', () => server.close(() => void manager.close()));
