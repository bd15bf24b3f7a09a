import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { LatencyMs } from '../report/types.js';

/** One request of a connection's fixed list: a path and, if any, the Cookie header it always sends. */
export interface PlannedRequest {
  readonly path: string;
  readonly cookie?: string;
}

/** What every connection sends, in a loop: built once, so the client spends no CPU choosing requests. */
export interface LoadPlan {
  readonly connections: number;
  /** The requests of connection `index` (0 ≤ index < connections), sent in order, round and round. */
  requestsFor(index: number): readonly PlannedRequest[];
}

/** What the client saw in one run. Latencies are measured per response at microsecond resolution. */
export interface LoadResult {
  /** Responses received (any status). */
  readonly requests: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly durationS: number;
  readonly reqPerSec: number;
  readonly latencyMs: LatencyMs;
  /** The load generator's own CPU time per wall time, in % of one core: near 100 means it was the limit. */
  readonly clientCpuPercent: number;
}

function toAutocannon(request: PlannedRequest): autocannon.Request {
  return {
    method: 'GET',
    path: request.path,
    headers: request.cookie ? { cookie: request.cookie } : {},
  };
}

/** The two windows of one run: warm-up (discarded) then measurement, on the same connections. */
export interface LoadWindows {
  readonly warmupS: number;
  readonly durationS: number;
  /** Requests per second over all connections; unset = as fast as the server answers. */
  readonly rate?: number;
  /** Called when the measured window opens (the server zeroes its own counters then). */
  onMeasureStart?(): void;
}

/**
 * Drives `url` with autocannon following `plan`: `warmupS` seconds whose responses are discarded, then
 * `durationS` measured seconds. One run on the same connections, so the measured window holds no connection
 * set-up (100 connections opening at once would otherwise own the latency tail) and no cold code.
 */
export async function runLoad(url: string, plan: LoadPlan, windows: LoadWindows): Promise<LoadResult> {
  // autocannon's own histogram has 1 ms resolution, too coarse for a round trip on loopback: keep ours in µs.
  const latencyUs = createHistogram();
  let measuring = windows.warmupS <= 0;
  let measuredAt = performance.now();
  let cpuBefore = process.cpuUsage();
  let responses = 0;
  let non2xx = 0;
  let errors = 0;
  let nextConnection = 0;
  const first = plan.requestsFor(0).map(toAutocannon);

  const openMeasurement = () => {
    measuring = true;
    measuredAt = performance.now();
    cpuBefore = process.cpuUsage();
    windows.onMeasureStart?.();
  };
  let warmupTimer: NodeJS.Timeout | undefined;

  await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: plan.connections,
        duration: windows.warmupS + windows.durationS,
        pipelining: 1,
        ...(windows.rate === undefined ? {} : { overallRate: windows.rate }),
        // autocannon checks for the end of the run once per sample: at its default of 1 s, every run would
        // last a whole number of seconds.
        sampleInt: 100,
        requests: first,
        setupClient: (client) => {
          const index = nextConnection++ % plan.connections;
          if (index > 0) client.setRequests(plan.requestsFor(index).map(toAutocannon));
        },
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('start', () => {
      if (measuring) openMeasurement();
      else warmupTimer = setTimeout(openMeasurement, windows.warmupS * 1000);
    });
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (!measuring) return;
      responses += 1;
      if (statusCode < 200 || statusCode >= 300) non2xx += 1;
      // Latency only of requests sent inside the measured window. The first request of each connection waits
      // for autocannon to build all its clients (hundreds of ms for 100): that is the client, not the server.
      else if (performance.now() - responseTimeMs >= measuredAt) {
        latencyUs.record(Math.max(1, Math.round(responseTimeMs * 1000)));
      }
    });
    instance.on('reqError', () => {
      if (measuring) errors += 1;
    });
  }).finally(() => clearTimeout(warmupTimer));
  const wallMs = performance.now() - measuredAt;
  const cpu = process.cpuUsage(cpuBefore);

  const ms = (us: number) => us / 1000;
  const seconds = wallMs / 1000;
  const has = latencyUs.count > 0;
  return {
    requests: responses,
    non2xx,
    errors,
    durationS: seconds,
    reqPerSec: seconds > 0 ? responses / seconds : 0,
    latencyMs: {
      p50: has ? ms(latencyUs.percentile(50)) : 0,
      p99: has ? ms(latencyUs.percentile(99)) : 0,
      p999: has ? ms(latencyUs.percentile(99.9)) : 0,
      max: has ? ms(latencyUs.max) : 0,
    },
    clientCpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
  };
}
