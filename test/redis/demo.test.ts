import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, waitFor } from '../support/redis-servers.js';
import { Browser } from '../support/session-helpers.js';

// `REDIS_URL=… npm start` twice, on two ports: the two demo processes serve the same sessions.
const entry = fileURLToPath(new URL('../../dist/examples/demo/server.js', import.meta.url));

async function startDemo(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`demo exited early with ${code}: ${output}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, output: () => output };
}

let server: RedisServer;
let demos: Awaited<ReturnType<typeof startDemo>>[];

beforeAll(async () => {
  server = await RedisServer.start();
  demos = await Promise.all([startDemo({ REDIS_URL: server.url }), startDemo({ REDIS_URL: server.url })]);
});

afterAll(async () => {
  for (const { child } of demos ?? []) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  }
  await server?.stop();
});

describe('the demo on Redis', () => {
  it('says it serves from Redis, and two demo processes share the visitor count and the login', async () => {
    const [a, b] = demos as [(typeof demos)[0], (typeof demos)[0]];
    expect(a.output()).toContain('(Redis: 64 partition(s))');
    const browser = new Browser(a.url);
    const other = Object.assign(new Browser(b.url), { jar: browser.jar });
    expect(await browser.text('/count')).toBe('1\n');
    expect(await other.text('/count')).toBe('2\n');
    // Log in through B with the form A served (its token travels in a cookie both processes read).
    const csrf = /name="csrf" value="([^"]*)"/.exec(await browser.text('/login'))?.[1] ?? '';
    const login = await other.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ username: 'ann', csrf }).toString(),
    });
    expect(login.status).toBe(303);
    // The login's write leaves as B's response does, not before it: A sees it once Redis has it.
    await waitFor('A to see the login', async () => (await browser.text('/')).includes('Hello, ann'));
    expect(await browser.text('/')).toContain('Visits counted: <strong>2</strong>');
    // The login through B bound the session to ann in Redis: A lists it as this device.
    const { sessions } = JSON.parse(await browser.text('/sessions')) as { sessions: { current: boolean }[] };
    expect(sessions.map((s) => s.current)).toEqual([true]);
  });
});
