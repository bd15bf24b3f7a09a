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
<button type="submit">Log in</button>
</form>`;
}

/** A one-button form posting to `action` with the session's token. */
export function buttonForm(action: string, label: string, token: string): string {
  return `<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="csrf" value="${escapeHtml(token)}">
<button type="submit">${escapeHtml(label)}</button>
</form>`;
}

export function homePage(options: {
  username: string | undefined;
  count: number;
  loginToken: string | undefined;
  sessionToken: string | undefined;
}): string {
  const { username, count, loginToken, sessionToken } = options;
  const greeting = username
    ? `<h1>Hello, ${escapeHtml(username)}</h1>\n${buttonForm('/logout', 'Log out', sessionToken ?? '')}`
    : `<h1>Hello, stranger</h1>\n${loginForm(loginToken ?? '')}`;
  return page(
    'shard-session demo',
    `${greeting}
<p>Visits counted: <strong>${count}</strong>. <a href="/count">/count</a> adds one, atomically.</p>
<p><a href="/stats">/stats</a>: live sessions and per-shard numbers.</p>`,
  );
}
