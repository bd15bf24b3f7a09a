import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLayout } from '../../src/providers/redis/key-layout.js';
import { RedisServer, waitFor } from '../support/redis-servers.js';
import { Browser } from '../support/session-helpers.js';

// Two managers in two processes on one Redis, as two app servers behind a load balancer would run: each
// process serves a route per session operation. The children load the build (`npm run build` first).
const ENTRY = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));
const Redis = createRequire(import.meta.url)('ioredis').Redis;

const APP = `
import { createServer } from 'node:http';
const { createSessionManager, withSession } = await import(process.env.ENTRY);
const manager = createSessionManager({
  provider: 'redis',
  providerOptions: { url: process.env.REDIS_URL, prefix: 'two:', gcIntervalMs: 0 },
});
const server = createServer(withSession(manager, async (req, res, session) => {
  const url = new URL(req.url, 'http://localhost');
  switch (url.pathname) {
    case '/login':
      await session.regenerate();
      session.set('user', url.searchParams.get('user'));
      return res.end('ok');
    case '/whoami':
      return res.end(session.get('user') ?? '-');
    case '/incr':
      return res.end(String(await session.incr('n')));
    case '/n':
      return res.end(String(session.get('n') ?? '-'));
    case '/logout':
      await session.destroy();
      return res.end('bye');
    case '/setuser':
      await session.setUser(url.searchParams.get('user'));
      return res.end(session.handle);
    case '/devices':
      return res.end(JSON.stringify((await manager.sessionsOf(session.userId)).map((s) => s.handle).sort()));
    case '/logout-everywhere':
      return res.end(String(await manager.revokeUser(session.userId, { except: session.handle })));
    case '/slow-write':
      // Holds the session it loaded, then writes to it: the write travels after the response starts.
      await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get('ms'))));
      session.set('late', true);
      return res.end('written');
  }
  res.statusCode = 404;
  res.end();
}));
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => server.close(() => manager.close().then(() => process.exit(0))));
`;

interface App {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startApp(redisUrl: string): Promise<App> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', APP], {
    env: { ...process.env, ENTRY, REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the app exited with ${code}: ${output}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

let server: RedisServer;
let apps: App[];
let admin: InstanceType<typeof Redis>;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
  apps = await Promise.all([startApp(server.url), startApp(server.url)]);
});

afterAll(async () => {
  await Promise.all(
    (apps ?? []).map(async ({ child }) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
  admin?.disconnect();
  await server?.stop();
});

describe('two processes, one Redis', () => {
  it('a login in one process is seen by the other', async () => {
    const [a, b] = apps as [App, App];
    const browser = new Browser(a.url);
    expect(await browser.text('/login?user=ann')).toBe('ok');
    // Cookies belong to the host, not the port: the same browser, now talking to the other process.
    const other = Object.assign(new Browser(b.url), { jar: browser.jar });
    expect(await other.text('/whoami')).toBe('ann');
  });

  it('1,000 concurrent increments spread over both end at exactly 1,000, each value given once', async () => {
    const [a, b] = apps as [App, App];
    const browser = new Browser(a.url);
    expect(await browser.text('/incr')).toBe('1');
    const cookie = await browser.jar.getCookieString(a.url);
    // 999 more, half to each process, 100 in flight at a time.
    const urls = Array.from({ length: 999 }, (_, i) => `${i % 2 === 0 ? a.url : b.url}/incr`);
    const values: number[] = [1];
    for (let i = 0; i < urls.length; i += 100) {
      const batch = urls
        .slice(i, i + 100)
        .map(async (url) => Number(await (await fetch(url, { headers: { cookie } })).text()));
      values.push(...(await Promise.all(batch)));
    }
    expect(values.sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await (await fetch(`${b.url}/n`, { headers: { cookie } })).text()).toBe('1000');
  });

  it('a destroy in one process is final in the other, even for a request that loaded the session before it', async () => {
    const [a, b] = apps as [App, App];
    const browser = new Browser(a.url);
    await browser.text('/login?user=bob');
    const cookie = await browser.jar.getCookieString(a.url);
    const sid = /sid=([^;]+)/.exec(cookie)?.[1] as string;
    const key = new KeyLayout('two:').sessionKey(sid);
    // The login's write leaves as its response does, not before (the manager does not await it): this
    // test's own connection to Redis can be quicker by a fraction of a millisecond.
    await waitFor('the login to be stored', async () => (await admin.exists(key)) === 1);
    // B loads the session and holds it; meanwhile A logs out; then B writes to what it loaded.
    const slow = fetch(`${b.url}/slow-write?ms=300`, { headers: { cookie } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await (await fetch(`${a.url}/logout`, { headers: { cookie } })).text()).toBe('bye');
    expect(await (await slow).text()).toBe('written');
    // The late write was dropped, not turned back into a session; the old cookie gets nothing anywhere.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await admin.exists(key)).toBe(0);
    for (const app of [a, b])
      expect(await (await fetch(`${app.url}/whoami`, { headers: { cookie } })).text()).toBe('-');
  });

  it("both list one user's sessions, and a log out everywhere in one ends the sessions logged in through the other", async () => {
    const [a, b] = apps as [App, App];
    const user = `u${Date.now()}`;
    const onA = [new Browser(a.url), new Browser(a.url)];
    const onB = new Browser(b.url);
    const handles: string[] = [];
    for (const browser of [...onA, onB]) {
      await browser.text(`/login?user=${user}`);
      handles.push(await browser.text(`/setuser?user=${user}`));
    }
    const all = JSON.stringify([...handles].sort());
    expect(await onB.text('/devices')).toBe(all);
    expect(await (onA[0] as Browser).text('/devices')).toBe(all);
    // Process B logs out everywhere but its own session: both sessions made through A end.
    expect(await onB.text('/logout-everywhere')).toBe('2');
    for (const browser of onA) {
      expect(await browser.text('/whoami')).toBe('-');
      const inB = Object.assign(new Browser(b.url), { jar: browser.jar });
      expect(await inB.text('/whoami')).toBe('-');
    }
    expect(await onB.text('/whoami')).toBe(user);
    expect(await onB.text('/devices')).toBe(JSON.stringify([handles[2]]));
  });
});
