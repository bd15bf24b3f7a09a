import { parentPort } from 'node:worker_threads';
import { answerFrame } from './frame-batcher.js';

// The raw-port floor's worker: a bare MessagePort answering frames.
parentPort?.on('message', (buffer: ArrayBuffer) => {
  const answer = answerFrame(buffer);
  parentPort?.postMessage(answer, [answer]);
});
