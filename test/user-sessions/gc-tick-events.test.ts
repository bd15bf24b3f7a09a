import { afterEach, expect, it } from 'vitest';
import { createSessionManager, type SessionEvent, type SessionManager } from '../../src/index.js';
import { Browser, Clock, type Listening, listen } from '../support/session-helpers.js';
import { userApp } from './app.js';

let manager: SessionManager;
let server: Listening;

afterEach(async () => {
  await server?.close();
  await manager?.close();
});

it("expiry events come from the shards' own GC ticks, batched: one message per shard, not per event", async () => {
  const clock = new Clock(Date.now());
  manager = createSessionManager({
    provider: 'sharded',
    providerOptions: { shards: 2, gcIntervalMs: 20 },
    now: clock.now,
  });
  server = await listen(userApp(manager));
  const batches: number[] = [];
  const events: SessionEvent[] = [];
  // The provider's own receiver (the one manager.on would install), to see the batches as they arrive.
  const provider = manager.provider as { onEvents: (r: (e: readonly SessionEvent[]) => void) => void };
  provider.onEvents((batch) => {
    batches.push(batch.length);
    for (const event of batch) if (event.type === 'expired') events.push(event);
  });
  for (let i = 0; i < 30; i++) await new Browser(server.url).fetch(`/login?user=u${i % 3}`);
  await new Promise((r) => setTimeout(r, 100)); // the 'created' batches go by
  batches.length = 0;
  clock.advance(31 * 60_000);
  await manager.count(); // carries the new time to every shard; the ticks do the sweeping
  const deadline = Date.now() + 5000;
  while (events.length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(events).toHaveLength(30);
  expect(new Set(events.map((e) => e.handle)).size).toBe(30);
  expect(events.every((e) => e.reason === 'idle')).toBe(true);
  expect(batches.length).toBeLessThanOrEqual(4); // a batch per shard and tick, not 30 messages
  for (let i = 0; i < 3; i++) expect(await manager.sessionsOf(`u${i}`)).toEqual([]);
});
