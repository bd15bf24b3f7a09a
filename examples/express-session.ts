// "Coming from express-session" from the README, runnable: `npm run build && node dist/examples/express-session.js`.
// An express-session app as it was, with one line changed: its store.
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { ShardSessionStore } from 'shard-session/express-session';

declare module 'express-session' {
  interface SessionData {
    count: number;
  }
}

const store = new ShardSessionStore(); // was express-session's default MemoryStore
const app = express();
app.use(
  session({
    secret: process.env.SESSION_SECRET ?? 'keyboard cat',
    resave: false,
    saveUninitialized: false,
    store,
  }),
);

app.get('/count', (req, res) => {
  req.session.count = (req.session.count ?? 0) + 1;
  res.type('text/plain').send(String(req.session.count));
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
process.once('SIGTERM', () => server.close(() => void store.close()));
