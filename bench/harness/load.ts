import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** Latency percentiles of one measured window, in ms, of 2xx responses sent inside the window. */
export interface LatencyMs {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

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
  readonly responses: number;
  /** 2xx responses: the only ones that count as served. */
  readonly ok: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly durationS: number;
  /** 2xx responses per second: a fast 503 or 500 is not a served request. */
  readonly okPerSec: number;
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
  /** Called when the measured window opens (the server zeroes its own counters then). */
  onMeasureStart?(): void;
}

/**
 * Drives `url` with autocannon following `plan`, each connection sending its next request as soon as the last
 * is answered (closed loop: as fast as the server answers; paced loads go through `runPaced`): `warmupS` seconds whose responses are discarded, then
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

  return loadResult({ responses, non2xx, errors, seconds: wallMs / 1000, latencyUs, clientCpu: cpu, wallMs });
}

/** What a window counted, as a LoadResult: per-second rates, percentiles in ms, the client's CPU share. */
export function loadResult(counted: {
  readonly responses: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Seconds the rates are per. */
  readonly seconds: number;
  /** Latencies of 2xx answers, in µs. */
  readonly latencyUs: RecordableHistogram;
  /** The client's CPU use over `wallMs`. */
  readonly clientCpu: NodeJS.CpuUsage;
  readonly wallMs: number;
}): LoadResult {
  const { responses, non2xx, seconds, latencyUs, clientCpu, wallMs } = counted;
  const ms = (us: number) => us / 1000;
  const has = latencyUs.count > 0;
  return {
    responses,
    ok: responses - non2xx,
    non2xx,
    errors: counted.errors,
    durationS: seconds,
    okPerSec: seconds > 0 ? (responses - non2xx) / seconds : 0,
    latencyMs: {
      p50: has ? ms(latencyUs.percentile(50)) : 0,
      p99: has ? ms(latencyUs.percentile(99)) : 0,
      p999: has ? ms(latencyUs.percentile(99.9)) : 0,
      max: has ? ms(latencyUs.max) : 0,
    },
    clientCpuPercent: wallMs > 0 ? ((clientCpu.user + clientCpu.system) / 1000 / wallMs) * 100 : 0,
  };
}

/**
 * Sends `GET /read` once with every cookie of `plan`, each connection its own cookies in turn, before a run's
 * first window: the windows then measure the steady state of clients that come back, not their first visit.
 * A first visit pays once per client what a returning one does not (the HMAC check of a signed cookie before
 * it is remembered, a shard's read-cache fill), and a saturating window of 1 + 4 s at ~7,000 req/s over 10,000
 * sessions visits each only ~3 times: in the full profile's read-modify-write a third of the measured
 * requests were first visits to shard-session, which spent ~11 % of its CPU verifying cookies (map checks
 * none). New sessions are measured by new-session, which sends no cookie. `/read` changes nothing, so
 * hot-session's count of acknowledged increments stays exact.
 */
export async function visitEachCookieOnce(url: string, plan: LoadPlan): Promise<void> {
  const lists = Array.from({ length: plan.connections }, (_, index) =>
    plan
      .requestsFor(index)
      .filter((request) => request.cookie !== undefined)
      .map((request) => toAutocannon({ path: '/read', cookie: request.cookie as string })),
  );
  const longest = Math.max(0, ...lists.map((list) => list.length));
  if (longest === 0) return;
  let nextConnection = 0;
  await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url,
        connections: plan.connections,
        // Each connection stops after its list (a shorter list goes round again: a returning client).
        maxConnectionRequests: longest,
        // Only a bound: the run ends when every connection sent its list.
        duration: 600,
        pipelining: 1,
        requests: lists[0] ?? [],
        setupClient: (client) => {
          const index = nextConnection++ % plan.connections;
          const list = lists[index] ?? [];
          if (index > 0 && list.length > 0) client.setRequests(list);
        },
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
  });
}
