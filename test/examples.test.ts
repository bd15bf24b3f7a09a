import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CookieJar } from 'tough-cookie';
import { afterEach, describe, expect, it } from 'vitest';

// The README's quick starts are these files: run the built ones as a user would, and talk to them over HTTP.
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
});

function start(example: string): Promise<string> {
  const file = fileURLToPath(new URL(`../dist/examples/${example}.js`, import.meta.url));
  const child = spawn(process.execPath, [file], { env: { ...process.env, PORT: '0' }, stdio: 'pipe' });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+?)\/?\s/.exec(output)?.[1];
      if (url) resolve(url);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`${example} exited with ${code}: ${output}`)));
  });
}

async function get(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const cookie = await jar.getCookieString(url);
  const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie } });
  for (const line of res.headers.getSetCookie()) await jar.setCookie(line, url);
  return res;
}

describe('README quick starts', () => {
  for (const [example, path] of [
    ['node-http', '/'],
    ['express', '/count'],
    ['fastify', '/count'],
    ['express-session', '/count'],
  ] as const) {
    it(`${example}: counts per session`, async () => {
      const base = await start(example);
      const jar = new CookieJar();
      const first = await (await get(jar, `${base}${path}`)).text();
      const second = await (await get(jar, `${base}${path}`)).text();
      expect(first).toMatch(/\b1\b/);
      expect(second).toMatch(/\b2\b/);
      const stranger = await (await fetch(`${base}${path}`)).text();
      expect(stranger).toMatch(/\b1\b/);
    });
  }

  it('express: login regenerates the id and keeps the count', async () => {
    const base = await start('express');
    const jar = new CookieJar();
    await get(jar, `${base}/count`);
    const before = await jar.getCookieString(base);
    const login = await get(jar, `${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=ann',
    });
    expect(login.status).toBe(302);
    expect(await jar.getCookieString(base)).not.toBe(before);
    expect(await (await get(jar, `${base}/count`)).text()).toBe('2');
    // The pre-login id is dead: whoever still holds it starts over at 1.
    const stale = await (await fetch(`${base}/count`, { headers: { cookie: before } })).text();
    expect(stale).toMatch(/\b1\b/);
    expect(stale).not.toMatch(/\b[23]\b/);
  });
});
