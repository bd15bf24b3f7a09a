import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  memoryTarget,
  rawPiscinaTarget,
  rawPortTarget,
  shardedTarget,
  type Target,
} from './engine/targets.js';

/**
 * The engine benchmark: µs per operation and operations per second for the providers and two floors,
 * at several pipeline depths. Depth is how many callers each keep one operation in flight, awaiting its
 * answer before sending the next (as HTTP connections do), not a queue filled in advance.
 *
 *   npm run bench:engine            (about 3 minutes)
 *   npm run bench:engine -- --quick (under a minute)
 */

interface EngineResult {
  provider: string;
  shards: number;
  depth: number;
  usPerOp: number;
  opsPerSec: number;
}

const quick = process.argv.includes('--quick');
const DEPTHS = [1, 16, 64, 256];
const WARMUP_MS = quick ? 200 : 500;
const MEASURE_MS = quick ? 1000 : 4000;

async function measure(target: Target, depth: number): Promise<EngineResult> {
  await target.prepare(depth);
  try {
    const drive = async (until: number) => {
      let ops = 0;
      await Promise.all(
        Array.from({ length: depth }, async (_, caller) => {
          while (performance.now() < until) {
            await target.op(caller);
            ops++;
          }
        }),
      );
      return ops;
    };
    await drive(performance.now() + WARMUP_MS);
    const started = performance.now();
    const ops = await drive(started + MEASURE_MS);
    const elapsedMs = performance.now() - started;
    return {
      provider: target.provider,
      shards: target.shards,
      depth,
      usPerOp: (elapsedMs * 1000) / ops,
      opsPerSec: (ops * 1000) / elapsedMs,
    };
  } finally {
    await target.close();
  }
}

function table(results: EngineResult[]): string {
  const floor = new Map(results.filter((r) => r.provider === 'raw-port').map((r) => [r.depth, r.usPerOp]));
  const lines = [
    '| provider | shards | depth | µs/op | ops/s | × raw-port |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const ratio = r.usPerOp / (floor.get(r.depth) ?? Number.NaN);
      return `| ${r.provider} | ${r.shards} | ${r.depth} | ${r.usPerOp.toFixed(2)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${ratio.toFixed(2)} |`;
    }),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const makers: (() => Target)[] = [
    rawPortTarget,
    rawPiscinaTarget,
    memoryTarget,
    () => shardedTarget(1),
    () => shardedTarget(2),
    () => shardedTarget(4),
  ];
  const results: EngineResult[] = [];
  console.log(
    `engine bench (${quick ? 'quick' : 'full'}): ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}`,
  );
  for (const make of makers) {
    for (const depth of DEPTHS) {
      const result = await measure(make(), depth);
      results.push(result);
      console.log(
        `  ${result.provider.padEnd(12)} shards=${result.shards} depth=${String(depth).padStart(3)}  ${result.usPerOp.toFixed(2).padStart(8)} µs/op  ${Math.round(result.opsPerSec).toLocaleString('en-US').padStart(10)} ops/s`,
      );
    }
  }
  console.log(`\n${table(results)}`);
  const best = (depth: number) =>
    Math.min(...results.filter((r) => r.provider === 'sharded' && r.depth === depth).map((r) => r.usPerOp));
  const floorAt = (depth: number) =>
    results.find((r) => r.provider === 'raw-port' && r.depth === depth)?.usPerOp;
  for (const depth of [64, 256]) {
    const ratio = best(depth) / (floorAt(depth) ?? Number.NaN);
    console.log(`target at depth ${depth}: best sharded = ${ratio.toFixed(2)}× raw-port (goal ≤ 1.5×)`);
  }
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}engine.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${dir}engine.json`);
}

await main();
