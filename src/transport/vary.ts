import type { OutgoingHttpHeader } from 'node:http';

/** The `Vary` value `current` with `field` added, unless it is already listed (or `*`). */
export function mergeVary(current: OutgoingHttpHeader | undefined, field: string): string {
  if (current === undefined || current === '') return field; // the usual case: nothing listed yet
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  const fields = text
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter((f) => f !== '');
  if (fields.includes('*') || fields.includes(field.toLowerCase())) return text;
  return text.trim() === '' ? field : `${text}, ${field}`;
}
