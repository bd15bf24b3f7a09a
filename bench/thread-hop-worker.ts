/**
 * The far side of bench/thread-hop.ts: answers each round trip the way its variant says, doing no other work,
 * so that what the probe counts is the hop alone.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';

export type HopVariant = 'message-port' | 'doorbell' | 'shared-memory';

export interface HopSetup {
  readonly variant: HopVariant;
  readonly port: MessagePort;
  /** Int32 slots: [0] round trips asked for (-1: stop), [1] round trips answered. */
  readonly counters: SharedArrayBuffer;
}

/** An answer the size of a small frame, transferred as the engine transfers its frames. */
function answer(port: MessagePort): void {
  const buffer = new ArrayBuffer(16);
  port.postMessage(buffer, [buffer]);
}

// How long the doorbell's waiter sleeps before it lets its event loop run (timers, the port's close).
const DOORBELL_TURN_MS = 20;

const { variant, port, counters } = workerData as HopSetup;
const slots = new Int32Array(counters);

if (variant === 'message-port') {
  port.on('message', () => answer(port));
} else if (variant === 'doorbell') {
  // The same messages, but read with receiveMessageOnPort when the main thread rings: the thread sleeps in
  // Atomics.wait instead of its event loop.
  const serve = (): void => {
    const turnEnds = Date.now() + DOORBELL_TURN_MS;
    for (;;) {
      const rung = Atomics.load(slots, 0);
      if (rung < 0) return;
      while (receiveMessageOnPort(port) !== undefined) answer(port);
      const left = turnEnds - Date.now();
      if (left <= 0) break;
      Atomics.wait(slots, 0, rung, left);
    }
    setImmediate(serve);
  };
  serve();
} else {
  // No messages: a counter each way, the main thread awaiting its own with Atomics.waitAsync.
  let seen = 0;
  for (;;) {
    Atomics.wait(slots, 0, seen);
    const asked = Atomics.load(slots, 0);
    if (asked < 0) break;
    Atomics.add(slots, 1, asked - seen);
    seen = asked;
    Atomics.notify(slots, 1);
  }
}
