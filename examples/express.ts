// The Express quick start from the README, runnable: `npm run build && node dist/examples/express.js`.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSessionManager } from 'shard-session';
import { createExpressMiddleware, getSession } from 'shard-session/express';

type Data = { count: number; user: string };
const manager = createSessionManager<Data>({ provider: 'sharded' });
const app = express();
app.use(createExpressMiddleware(manager));

app.get('/count', async (req, res) => {
  const session = getSession<Data>(req); // req.session, typed
  res.type('text/plain').send(String(await session.incr('count')));
});

app.post('/login', express.urlencoded({ extended: false }), async (req, res) => {
  const session = getSession<Data>(req);
  await session.regenerate(); // new id, same data: the defense against session fixation
  session.set('user', String(req.body.username ?? ''));
  res.redirect('/count'); // the next request sees the login: the commit is ordered before it
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
process.once('SIGTERM', () => server.close(() => void manager.close()));
