/** The demo's HTML: every page is built here, and every piece of text that reaches it is escaped. */

export const MAX_USERNAME_LENGTH = 64;

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body></html>
`;
}

/** The login form; `token` must come back with it (see guard.ts). */
export function loginForm(token: string): string {
  return `<form method="post" action="/login">
<input type="hidden" name="csrf" value="${escapeHtml(token)}">
<label>Username <input name="username" maxlength="${MAX_USERNAME_LENGTH}" required autofocus></label>
<label><input type="checkbox" name="remember" value="1"> Remember me (30 days)</label>
<button type="submit">Log in</button>
</form>`;
}

/** A one-button form posting to `action` with the session's token (and `fields`, hidden). */
export function buttonForm(
  action: string,
  label: string,
  token: string,
  fields: Record<string, string> = {},
): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">\n`)
    .join('');
  return `<form method="post" action="${escapeHtml(action)}">
${hidden}<input type="hidden" name="csrf" value="${escapeHtml(token)}">
<button type="submit">${escapeHtml(label)}</button>
</form>`;
}

export function homePage(options: {
  username: string | undefined;
  count: number;
  loginToken: string | undefined;
  sessionToken: string | undefined;
  /** The user's devices, when the provider keeps a user index (see devices.ts). */
  devices?: readonly Device[] | undefined;
}): string {
  const { username, count, loginToken, sessionToken } = options;
  const devices = options.devices ? devicesList(options.devices, sessionToken ?? '') : '';
  const greeting = username
    ? `<h1>Hello, ${escapeHtml(username)}</h1>\n${buttonForm('/logout', 'Log out', sessionToken ?? '')}${devices}`
    : `<h1>Hello, stranger</h1>\n${loginForm(loginToken ?? '')}`;
  return page(
    'shard-session demo',
    `${greeting}
<p>Visits counted: <strong>${count}</strong>. <a href="/count">/count</a> adds one, atomically.</p>
<p><a href="/stats">/stats</a>: live sessions and per-shard numbers.</p>`,
  );
}

/** One of the user's sessions, as the home page lists it. */
export interface Device {
  readonly handle: string;
  readonly current: boolean;
  readonly label?: string | undefined;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/** "Your devices": this one marked, a log-out button for each, and one to log out everywhere. */
function devicesList(devices: readonly Device[], token: string): string {
  const items = devices.map((device) => {
    const name = escapeHtml(device.label || 'a browser');
    const since = new Date(device.createdAt).toISOString();
    const seen = new Date(device.lastSeenAt).toISOString();
    const mark = device.current ? ' <strong>(this device)</strong>' : '';
    const button = buttonForm('/sessions/revoke', 'Log this device out', token, { handle: device.handle });
    return `<li>${name}${mark}: logged in ${since}, last seen ${seen}\n${button}</li>`;
  });
  return `
<h2>Your devices</h2>
<ul class="devices">
${items.join('\n')}
</ul>
${buttonForm('/logout-everywhere', 'Log out everywhere', token)}`;
}
