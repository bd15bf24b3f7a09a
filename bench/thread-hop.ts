/**
 * What one round trip between the main thread and a worker thread costs in CPU, by how it travels, with no work
 * on either side: the floor under a shard's operation. Paced as the cost scenario paces requests (default 6,000
 * round trips a second; a 1 ms timer sends those due, as an HTTP server receives several requests per turn of
 * its loop at that rate), for `seconds` each:
 * - `message-port`: the engine's transport. A transferred 16-byte ArrayBuffer each way, a 'message' listener
 *   on each side, each message waking the receiving thread's event loop.
 * - `doorbell`: the same messages, but the worker sleeps in Atomics.wait and reads its port with
 *   receiveMessageOnPort when the main thread rings (Atomics.notify): a wake-up without its event loop.
 * - `shared-memory`: no messages. The main thread bumps a counter in a SharedArrayBuffer and notifies; the worker
 *   answers by bumping a second one, which the main thread awaits with Atomics.waitAsync. Data would travel
 *   in shared memory too; this probe moves none.
 * Each figure is the process's CPU per round trip less that of the pacer alone (`none`), and the part of it on
 * each thread (from /proc/self/task, Linux only; 10 ms ticks, so run a few seconds).
 * What it does not show: the hop's cost inside a busy server. Measured here, shared memory costs a third of a
 * MessagePort round trip (6–8 against 22–25 µs at 6,000/s), yet a prototype of the engine with its frames and
 * answers in SharedArrayBuffer rings (the shard in Atomics.wait, the router on Atomics.waitAsync) cost the
 * same per paced `/incr` over HTTP as the MessagePort engine: there the wake-ups and the shard's per-frame work
 * on cold caches dominate, not the channel (README, Performance, issue 8 round 7).
 *
 *   npm run build && node dist/bench/thread-hop.js [rate] [seconds]
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { threadTimes } from './harness/thread-times.js';
import type { HopSetup, HopVariant } from './thread-hop-worker.js';

const rate = Number(process.argv[2] ?? 6_000);
const seconds = Number(process.argv[3] ?? 4);

interface Hop {
  send(): void;
  readonly answered: () => number;
  close(): Promise<void>;
}

/** Atomics.waitAsync: in Node since 16, in TypeScript's lib from ES2024 (this project's lib is ES2023). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(slots: Int32Array, index: number, value: number): { async: boolean; value: unknown };
  }
).waitAsync;

/** CPU µs this process's threads have used so far, user and system, by thread id. */
function threadCpu(): Map<string, number> {
  return new Map([...threadTimes()].map(([tid, { user, system }]) => [tid, user + system]));
}

/** The pacer alone: every round trip is answered at once, on the main thread. */
function noHop(): Hop {
  let answered = 0;
  return { send: () => answered++, answered: () => answered, close: async () => {} };
}

async function workerHop(variant: HopVariant): Promise<Hop> {
  const counters = new SharedArrayBuffer(8);
  const slots = new Int32Array(counters);
  const { port1, port2 } = new MessageChannel();
  const setup: HopSetup = { variant, port: port2, counters };
  const worker = new Worker(new URL('./thread-hop-worker.js', import.meta.url), {
    workerData: setup,
    transferList: [port2],
  });
  await new Promise((resolve) => worker.once('online', resolve));
  let answered = 0;
  let closed = false;
  if (variant === 'shared-memory') {
    void (async () => {
      while (!closed) {
        const seen = Atomics.load(slots, 1);
        const wait = waitAsync(slots, 1, seen);
        if (wait.async) await wait.value;
        answered += Atomics.load(slots, 1) - seen;
      }
    })();
  } else {
    port1.on('message', () => answered++);
  }
  const ring = () => {
    Atomics.add(slots, 0, 1);
    Atomics.notify(slots, 0);
  };
  const post = () => {
    const buffer = new ArrayBuffer(16);
    port1.postMessage(buffer, [buffer]);
  };
  const postAndRing = () => {
    post();
    ring();
  };
  return {
    send: variant === 'message-port' ? post : variant === 'doorbell' ? postAndRing : ring,
    answered: () => answered,
    close: async () => {
      closed = true;
      Atomics.store(slots, 0, -1);
      Atomics.notify(slots, 0);
      Atomics.add(slots, 1, 1);
      Atomics.notify(slots, 1);
      port1.close();
      await worker.terminate();
    },
  };
}

/** Sends `rate` round trips a second for `seconds`; the CPU used meanwhile, per answered round trip. */
async function paced(hop: Hop): Promise<{ total: number; main: number }> {
  const before = threadCpu();
  const start = performance.now();
  const interval = 1000 / rate;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      for (const due = Math.floor(elapsed / interval); sent < due; sent++) hop.send();
      if (elapsed >= seconds * 1000) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  // The last answers arrive.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = threadCpu();
  const answered = hop.answered();
  let total = 0;
  for (const [tid, used] of after) total += used - (before.get(tid) ?? 0);
  const mainTid = String(process.pid);
  const main = (after.get(mainTid) ?? 0) - (before.get(mainTid) ?? 0);
  if (answered < sent) throw new Error(`${sent - answered} of ${sent} round trips were not answered`);
  return { total: total / answered, main: main / answered };
}

const pacer = await paced(noHop());
console.log(
  `${rate} round trips/s for ${seconds} s; the pacer alone: ${pacer.total.toFixed(1)} µs per round trip`,
);
console.log('CPU µs per round trip, less the pacer   total   main thread   worker + the rest');
for (const variant of ['message-port', 'doorbell', 'shared-memory'] as const) {
  const hop = await workerHop(variant);
  try {
    const { total, main } = await paced(hop);
    const net = total - pacer.total;
    const mainNet = main - pacer.main;
    console.log(
      `  ${variant.padEnd(36)} ${net.toFixed(1).padStart(6)} ${mainNet.toFixed(1).padStart(13)} ${(net - mainNet).toFixed(1).padStart(19)}`,
    );
  } finally {
    await hop.close();
  }
}
