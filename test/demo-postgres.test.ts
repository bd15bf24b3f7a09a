import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, freshSchemaName, testPool } from './support/postgres.js';
import { Browser } from './support/session-helpers.js';

// `DATABASE_URL=postgres://… npm start`, twice: two demo processes over one database share every session.
// The URL is all they are given; it selects this run's schema through the connection's search_path.
const entry = fileURLToPath(new URL('../dist/examples/demo/server.js', import.meta.url));
const pool = testPool(2);
const schemaName = freshSchemaName('demo');
const demos: { child: ChildProcess; url: string; exited: Promise<unknown[]> }[] = [];

async function startDemo(databaseUrl: string): Promise<(typeof demos)[number]> {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: '0', DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let output = '';
  child.stdout?.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = /(http:\/\/127\.0\.0\.1:\d+)\/ \(sessions in PostgreSQL\)/.exec(output);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`demo exited early with ${code}: ${output}`)));
  });
  const demo = { child, url, exited };
  demos.push(demo);
  return demo;
}

beforeAll(async () => {
  await pool.query(`CREATE SCHEMA "${schemaName}"`);
});

afterAll(async () => {
  for (const { child } of demos) child.kill('SIGKILL');
  await dropSchema(pool, schemaName);
  await pool.end();
});

/** Logs in on `base` as a browser does: the login page's token, then the form. */
async function login(browser: Browser, base: string, username: string): Promise<Response> {
  const html = await browser.text(`${base}/login`);
  const csrf = /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
  return browser.fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ username, csrf }).toString(),
  });
}

describe.skipIf(!existsSync(entry))('the demo over PostgreSQL', () => {
  it('two demo processes given the same DATABASE_URL share sessions: counter, login, logout', async () => {
    const databaseUrl = `${DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schemaName}`)}`;
    const [a, b] = [await startDemo(databaseUrl), await startDemo(databaseUrl)] as const;
    const browser = new Browser(a.url);

    // The counter, on either process, in turn and at once.
    expect(await browser.text(`${a.url}/count`)).toBe('1\n');
    expect(await browser.text(`${b.url}/count`)).toBe('2\n');
    const counted = await Promise.all(
      Array.from({ length: 40 }, (_, i) => browser.text(`${i % 2 ? a.url : b.url}/count`)),
    );
    expect(counted.map((text) => Number(text)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 3),
    );

    // Logged in on one, known on the other (with a new id: the old one is dead on both).
    const before = await browser.cookie('sid');
    expect((await login(browser, a.url, 'ann')).status).toBe(303);
    expect(await browser.cookie('sid')).not.toBe(before);
    const home = await browser.text(`${b.url}/`);
    expect(home).toContain('Hello, ann');
    expect(home).toContain('Visits counted: <strong>42</strong>');
    const stale = await fetch(`${b.url}/count`, { headers: { cookie: `sid=${before}` } });
    expect(await stale.text()).toBe('1\n');

    // Logged out on the other: a stranger again on both.
    const token = /name="csrf" value="([^"]*)"/.exec(home)?.[1] ?? '';
    const logout = await browser.fetch(`${b.url}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ csrf: token }).toString(),
    });
    expect(logout.status).toBe(303);
    expect(await browser.text(`${a.url}/`)).toContain('Hello, stranger');

    for (const demo of [a, b]) demo.child.kill('SIGTERM');
    expect((await Promise.all([a.exited, b.exited])).map(([code]) => code)).toEqual([0, 0]);
  }, 60_000);

  it("lists a user's devices logged in through either process; log out everywhere on one ends them all", async () => {
    const databaseUrl = `${DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schemaName}`)}`;
    const [a, b] = [await startDemo(databaseUrl), await startDemo(databaseUrl)] as const;
    const [laptop, phone] = [new Browser(a.url), new Browser(b.url)];
    expect((await login(laptop, a.url, 'bea')).status).toBe(303);
    expect((await login(phone, b.url, 'bea')).status).toBe(303);
    const listed = JSON.parse(await laptop.text(`${a.url}/sessions`)) as {
      sessions: { handle: string; current: boolean }[];
    };
    expect(listed.sessions.map((s) => s.current).sort()).toEqual([false, true]);
    expect(await phone.text(`${b.url}/`)).toContain('Your devices');

    const token = /name="csrf" value="([^"]*)"/.exec(await phone.text(`${b.url}/`))?.[1] ?? '';
    const everywhere = await phone.fetch(`${b.url}/logout-everywhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ csrf: token }).toString(),
    });
    expect(everywhere.status).toBe(303);
    expect(await laptop.text(`${a.url}/`)).toContain('Hello, stranger');
    expect(await phone.text(`${b.url}/`)).toContain('Hello, stranger');
    expect((await laptop.fetch(`${a.url}/sessions`)).status).toBe(401);

    for (const demo of [a, b]) demo.child.kill('SIGTERM');
    expect((await Promise.all([a.exited, b.exited])).map(([code]) => code)).toEqual([0, 0]);
  }, 60_000);
});
