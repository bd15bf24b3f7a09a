import type { ServerResponse } from 'node:http';

/** Adds `field` to the response's `Vary` header unless it is already there (or is `*`). */
export function addVary(res: ServerResponse, field: string): void {
  if (res.headersSent) return;
  const current = res.getHeader('vary');
  const text = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current);
  const fields = text
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter((f) => f !== '');
  if (fields.includes('*') || fields.includes(field.toLowerCase())) return;
  res.setHeader('Vary', text.trim() === '' ? field : `${text}, ${field}`);
}
