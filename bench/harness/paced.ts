/**
 * A paced (open-loop) client: requests leave at even intervals, `rate` per second, whatever the server does.
 * autocannon's `overallRate` is a budget per second per connection, refilled by a 1 s timer: each second's
 * requests leave back to back at its start and the server idles for the rest, so a "paced 6,000 req/s" run
 * is really a saturating burst per second (measured here: a 1 s window counted 7,788 answers at 6,000 req/s).
 * CPU per request and event-loop delay of such bursts are those of a saturated server, not of a paced one.
 */
import { createHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';
import { type LoadPlan, type LoadResult, type LoadWindows, loadResult, type PlannedRequest } from './load.js';

// Node's timers fire at best once a millisecond: at 6,000 req/s each tick sends ~6 requests.
const TICK_MS = 1;
// Answers still out this long after the last request was scheduled are given up (counted as errors).
const DRAIN_TIMEOUT_MS = 2_000;

/** The plan's requests in the order they are sent: connection 0's first, connection 1's first, … */
function sequence(plan: LoadPlan): PlannedRequest[] {
  const lists = Array.from({ length: plan.connections }, (_, i) => plan.requestsFor(i));
  const longest = Math.max(0, ...lists.map((l) => l.length));
  const all: PlannedRequest[] = [];
  for (let j = 0; j < longest; j++) {
    for (const list of lists) {
      const request = list[j];
      if (request !== undefined) all.push(request);
    }
  }
  return all.length > 0 ? all : [{ path: '/' }];
}

/**
 * Sends `rate` requests per second over `plan.connections` keep-alive connections for warmupS + durationS
 * seconds (the warm-up sends `warmupPlan`'s requests when given). Latency is measured from when a request was due, not when a connection was free to send it, so
 * a server that falls behind shows its queueing (no coordinated omission). Only requests due inside the
 * measured window count.
 */
export async function runPaced(
  url: string,
  plan: LoadPlan,
  windows: LoadWindows & { rate: number; warmupPlan?: LoadPlan },
): Promise<LoadResult> {
  const requests = sequence(plan);
  const warmupRequests = windows.warmupPlan === undefined ? requests : sequence(windows.warmupPlan);
  const pool = new Pool(url, { connections: plan.connections, pipelining: 1 });
  const latencyUs = createHistogram();
  const intervalMs = 1000 / windows.rate;
  const startedAt = performance.now();
  const measuredAt = startedAt + windows.warmupS * 1000;
  const endsAt = measuredAt + windows.durationS * 1000;
  let measuring = false;
  let cpuBefore = process.cpuUsage();
  let sent = 0;
  let responses = 0;
  let non2xx = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();

  const send = (dueAt: number, request: PlannedRequest) => {
    const counted = dueAt >= measuredAt;
    const done = pool
      .request({
        method: 'GET',
        path: request.path,
        headers: request.cookie ? { cookie: request.cookie } : {},
      })
      .then(async ({ statusCode, body }) => {
        await body.dump();
        if (!counted) return;
        responses += 1;
        if (statusCode < 200 || statusCode >= 300) non2xx += 1;
        else latencyUs.record(Math.max(1, Math.round((performance.now() - dueAt) * 1000)));
      })
      .catch(() => {
        if (counted) errors += 1;
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (!measuring && now >= measuredAt) {
        measuring = true;
        cpuBefore = process.cpuUsage();
        windows.onMeasureStart?.();
      }
      const due = Math.floor((Math.min(now, endsAt) - startedAt) / intervalMs);
      while (sent < due) {
        const dueAt = startedAt + sent * intervalMs;
        const list = dueAt < measuredAt ? warmupRequests : requests;
        send(dueAt, list[sent % list.length] as PlannedRequest);
        sent += 1;
      }
      if (now >= endsAt) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const wallMs = performance.now() - measuredAt;
  const cpu = process.cpuUsage(cpuBefore);
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([...inFlight]),
    new Promise((resolve) => {
      drainTimer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(drainTimer);
  errors += [...inFlight].length;
  await pool.destroy();

  return loadResult({
    responses,
    non2xx,
    errors,
    seconds: windows.durationS,
    latencyUs,
    clientCpu: cpu,
    wallMs,
  });
}
