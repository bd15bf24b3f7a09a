import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';

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
  readonly latencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly p999: number;
    readonly max: number;
  };
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

/** Drives `url` with autocannon for `durationS` seconds following `plan`. */
export async function runLoad(url: string, plan: LoadPlan, durationS: number): Promise<LoadResult> {
  // autocannon's own histogram has 1 ms resolution, too coarse for a round trip on loopback: keep ours in µs.
  const latencyUs = createHistogram();
  let responses = 0;
  let nextConnection = 0;
  const first = plan.requestsFor(0).map(toAutocannon);

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: plan.connections,
        duration: durationS,
        pipelining: 1,
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
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      responses += 1;
      if (statusCode >= 200 && statusCode < 300)
        latencyUs.record(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);

  const ms = (us: number) => us / 1000;
  const seconds = result.duration > 0 ? result.duration : wallMs / 1000;
  return {
    requests: responses,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: seconds,
    reqPerSec: responses / seconds,
    latencyMs: {
      p50: latencyUs.count > 0 ? ms(latencyUs.percentile(50)) : 0,
      p99: latencyUs.count > 0 ? ms(latencyUs.percentile(99)) : 0,
      p999: latencyUs.count > 0 ? ms(latencyUs.percentile(99.9)) : 0,
      max: latencyUs.count > 0 ? ms(latencyUs.max) : 0,
    },
    clientCpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
  };
}
