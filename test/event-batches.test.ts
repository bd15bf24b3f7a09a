import { describe, expect, it } from 'vitest';
import { EventBatches } from '../src/providers/event-batches.js';
import type { SessionEvent } from '../src/providers/provider.js';

// The one per-turn event batcher every provider's events go through (the user index, 'redis', 'postgres'):
// found by mutation testing, only the providers' suites reached it, and none asserted the batching itself.

const event = (handle: string): SessionEvent => ({
  type: 'destroyed',
  reason: 'revoke',
  userId: 'u',
  handle,
});
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('event batches', () => {
  it('drops events while nobody listens, and says so', async () => {
    const batches = new EventBatches();
    expect(batches.listening).toBe(false);
    batches.add(event('a'));
    batches.addAll([event('b')]);
    const got: (readonly SessionEvent[])[] = [];
    batches.listen((batch) => got.push(batch));
    expect(batches.listening).toBe(true);
    await nextTurn();
    await nextTurn();
    expect(got).toEqual([]);
  });

  it('hands a turn’s events over as one batch on the next turn, in order, then starts a new batch', async () => {
    const batches = new EventBatches();
    const got: (readonly SessionEvent[])[] = [];
    batches.listen((batch) => got.push(batch));
    batches.add(event('a'));
    batches.addAll([event('b'), event('c')]);
    batches.addAll([]);
    batches.add(event('d'));
    expect(got).toEqual([]);
    await nextTurn();
    expect(got).toEqual([[event('a'), event('b'), event('c'), event('d')]]);
    batches.add(event('e'));
    await nextTurn();
    expect(got).toEqual([[event('a'), event('b'), event('c'), event('d')], [event('e')]]);
    // Nothing added: no call, not even an empty batch.
    batches.addAll([]);
    await nextTurn();
    expect(got).toHaveLength(2);
  });
});
