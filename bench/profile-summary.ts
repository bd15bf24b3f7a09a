/**
 * Where a server's time went: `node dist/bench/profile-summary.js <file.cpuprofile> [top]` prints the self
 * time of a V8 CPU profile (from `npm run bench -- --cpu-prof=DIR`) grouped by source file or package, then
 * by function. Idle, GC and native calls (writev, postMessage) show as their own rows.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: CallFrame }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A short name for where a frame's code lives: a package, a project file, or a native/V8 bucket. */
function origin(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const packageAt = url.lastIndexOf('node_modules/');
  if (packageAt !== -1) {
    const parts = url.slice(packageAt + 'node_modules/'.length).split('/');
    return `pkg ${parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const distAt = url.indexOf('/dist/');
  if (distAt !== -1) return url.slice(distAt + 1);
  return url === '' ? frame.functionName || '(native)' : url;
}

function table(totals: Map<string, number>, total: number, top: number): string {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(6)}%  ${name}`)
    .join('\n');
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]');
    process.exitCode = 2;
    return;
  }
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const time = profile.timeDeltas[i] ?? 0;
    const frame = frames.get(id);
    if (frame === undefined) return;
    total += time;
    const where = origin(frame);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + time);
    const name = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  });
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  console.log(`\nby origin\n${table(byOrigin, total, top)}`);
  console.log(`\nby function\n${table(byFunction, total, top)}`);
}

main();
