import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** Reads a child's output by lines: `until(n)` resolves once it has printed `n` lines in all. */
export function lineReader(child: ChildProcessWithoutNullStreams): {
  until(count: number): Promise<string[]>;
} {
  let output = '';
  let errors = '';
  const waiting: { count: number; resolve(lines: string[]): void; reject(error: Error): void }[] = [];
  const check = () => {
    const got = output.split('\n').filter(Boolean);
    for (const waiter of waiting.filter((w) => got.length >= w.count)) waiter.resolve(got);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  child.once('exit', (code) => {
    for (const waiter of waiting) waiter.reject(new Error(`worker exited with ${code}: ${errors}`));
  });
  return {
    until: (count) =>
      new Promise((resolve, reject) => {
        waiting.push({ count, resolve, reject });
        check();
      }),
  };
}
