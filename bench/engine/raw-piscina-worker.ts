import { Piscina } from 'piscina';
import { answerFrame } from './frame-batcher.js';

// The raw-piscina floor's worker: one piscina task per frame, its answer transferred back.
export default function answer(buffer: ArrayBuffer): unknown {
  const result = answerFrame(buffer);
  return Piscina.move(result);
}
