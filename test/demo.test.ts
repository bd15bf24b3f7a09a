import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoServer, type Demo, escapeHtml, parseUsername } from '../examples/demo/app.js';
import { Browser, type Listening, listenServer } from './session-helpers.js';

let demo: Demo;
let listening: Listening;

beforeAll(async () => {
  demo = createDemoServer({ shards: 1 });
  listening = await listenServer(demo.server);
});

afterAll(async () => {
  await listening.close();
  await demo.manager.close();
});

function form(username: string): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username }).toString(),
    redirect: 'manual',
  };
}

describe('demo routes', () => {
  it('GET / shows the login form to a stranger without storing a session', async () => {
    const browser = new Browser(listening.url);
    const response = await browser.fetch('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).toContain('Visits counted: <strong>0</strong>');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('GET /count counts 1, 2, 3 per session', async () => {
    const browser = new Browser(listening.url);
    const first = await browser.fetch('/count');
    expect(first.headers.get('content-type')).toContain('text/plain');
    expect(await first.text()).toBe('1\n');
    expect(await browser.text('/count')).toBe('2\n');
    expect(await browser.text('/count')).toBe('3\n');
    expect(await new Browser(listening.url).text('/count')).toBe('1\n');
    expect(await browser.text('/')).toContain('Visits counted: <strong>3</strong>');
  });

  it('logs in with a new id (keeping the counter), greets HTML-escaped, and logs out', async () => {
    const browser = new Browser(listening.url);
    await browser.text('/count');
    const before = await browser.cookie('sid');
    const login = await browser.fetch('/login', form('<ann & "co">'));
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/');
    const after = await browser.cookie('sid');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const home = await browser.text('/');
    expect(home).toContain('Hello, &#60;ann &#38; &#34;co&#34;&#62;');
    expect(home).not.toContain('<ann');
    expect(home).toContain('Visits counted: <strong>1</strong>');
    // The pre-login id is dead.
    const stale = await fetch(`${listening.url}/count`, { headers: { cookie: `sid=${before}` } });
    expect(await stale.text()).toBe('1\n');

    const logout = await browser.fetch('/logout', { method: 'POST' });
    expect(logout.status).toBe(302);
    expect(logout.headers.getSetCookie()[0]).toMatch(/^sid=; .*Max-Age=0/);
    expect(await browser.cookie('sid')).toBeUndefined();
    expect(await browser.text('/')).toContain('Hello, stranger');
    const dead = await fetch(`${listening.url}/count`, { headers: { cookie: `sid=${after}` } });
    expect(await dead.text()).toBe('1\n');
  });

  it('GET /login shows the form', async () => {
    const response = await fetch(`${listening.url}/login`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('name="username"');
  });

  it('POST /login refuses empty, too long or unparseable usernames with 400', async () => {
    const url = `${listening.url}/login`;
    const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
    const bad: RequestInit[] = [
      form(''),
      form('   '),
      form('x'.repeat(65)),
      { method: 'POST', headers: urlencoded, body: 'username=%E0%A4%A' },
      { method: 'POST', headers: urlencoded, body: 'username=a&username=b' },
      { method: 'POST', headers: urlencoded, body: 'other=1' },
      { method: 'POST', headers: urlencoded, body: `username=${'y'.repeat(5000)}` },
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"ann"}' },
      { method: 'POST', body: 'username=ann' },
    ];
    for (const init of bad) {
      const response = await fetch(url, init);
      expect(response.status, String(init.body).slice(0, 40)).toBe(400);
      expect(response.headers.getSetCookie()).toEqual([]);
      await response.arrayBuffer();
    }
    expect((await fetch(url, form('x'.repeat(64)))).status).toBe(302);
    expect((await fetch(url, form('é'.repeat(64)))).status).toBe(302);
  });

  it('GET /stats reports live sessions and per-shard numbers', async () => {
    await new Browser(listening.url).text('/count');
    const response = await fetch(`${listening.url}/stats`);
    expect(response.headers.get('content-type')).toContain('application/json');
    const stats = (await response.json()) as {
      sessions: number;
      shards: { shard: number; sessions: number }[];
    };
    expect(stats.sessions).toBeGreaterThan(0);
    expect(stats.shards).toHaveLength(1);
    expect(stats.shards[0]).toMatchObject({ shard: 0 });
  });

  it('answers 404 for anything else', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/count'],
      ['DELETE', '/'],
      ['GET', '/logout'],
    ] as const) {
      const response = await fetch(`${listening.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      await response.arrayBuffer();
    }
  });

  it('parses urlencoded usernames strictly and escapes HTML', () => {
    expect(parseUsername('username=ann+lee')).toBe('ann lee');
    expect(parseUsername('a=1&username=%C3%A9')).toBe('é');
    expect(parseUsername('username=%zz')).toBeUndefined();
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});

describe('npm start', () => {
  const entry = fileURLToPath(new URL('../dist/examples/demo/server.js', import.meta.url));

  it.skipIf(!existsSync(entry))('serves on PORT with SHARDS and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, PORT: '0', SHARDS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        const match = /localhost:(\d+)\//.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`demo exited early with ${code}: ${output}`)));
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/count`)).text()).toBe('1\n');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
