import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layers of src/, bottom to top (see the README's Development section). An import may point down or
// sideways, never up; the ground imports nothing of the project, and entry points may import anything.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = /^src\/(index|express-session|express|fastify|testing)(\.ts|\/index\.ts)$/;
const LAYERS = ['ground', 'providers', 'session layer', 'http adapters', 'entry point'] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles('src');
const text = new Map(files.map((file) => [file, readFileSync(join(root, file), 'utf8')]));
const importsOf = (file: string) =>
  [...(text.get(file) ?? '').matchAll(/from\s+['"](\.[^'"]+)['"]/g)].map((m) =>
    relative(root, normalize(join(root, dirname(file), m[1] as string))).replace(/\.js$/, '.ts'),
  );

function layerOf(file: string): number {
  if (importsOf(file).length === 0) return 0;
  if (ENTRY.test(file)) return 4;
  if (file.startsWith('src/http/')) return 3;
  if (file.startsWith('src/providers/')) return 1;
  return 2;
}

describe('architecture', () => {
  it('has no import in src/ that points up the layers', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      if (from === 4) continue;
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to > from) upward.push(`${file} (${LAYERS[from]}) imports ${target} (${LAYERS[to]})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps every file in src/ to one job (at most ~300 lines)', () => {
    const long = files.filter((file) => (text.get(file) ?? '').split('\n').length > 310);
    expect(long).toEqual([]);
  });

  it('finds the files it checks (the checks above cannot pass vacuously)', () => {
    expect(files).toContain('src/manager.ts');
    expect(importsOf('src/manager.ts')).toContain('src/transport/before-headers.ts');
    expect(layerOf('src/errors.ts')).toBe(0);
    expect(layerOf('src/providers/memory.ts')).toBe(1);
  });
});
