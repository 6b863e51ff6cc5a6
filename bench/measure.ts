import autocannon from 'autocannon';
import os from 'node:os';

/** One workload, ready for autocannon. */
export interface Scenario {
  name: string;
  /** One line, printed in the report. */
  description: string;
  /** autocannon request sequence (usually one request with a setupRequest). */
  requests: autocannon.Request[];
  /** Runs before the warm-up and before the measured run (e.g. re-read versions). */
  beforeRun?: () => Promise<void>;
  /** `Authorization` header of every request (absent: the baseline server, no token). */
  authorization?: string;
}

export interface LoadSettings {
  connections: number;
  duration: number;
  warmup: number;
  /** CPU seconds used by the server so far (to tell a busy machine from a slow server). */
  serverCpuSeconds?: () => number | undefined;
}

/** Pause before each run, so requests cut off at the end of the previous one are finished by the server. */
const SETTLE_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The measured run of one workload, as printed and written to JSON. */
export interface WorkloadResult {
  name: string;
  description: string;
  connections: number;
  durationSeconds: number;
  /** Responses received during the measured run. */
  responses: number;
  /** Mean of autocannon's per-second request counts. */
  reqPerSec: number;
  /** Latency of every response of the measured run, ms. */
  latencyMs: { mean: number; p50: number; p95: number; p99: number; max: number };
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors and timeouts (autocannon `errors`). */
  errors: number;
  timeouts: number;
  /**
   * Share of one core the server used during the measured run (100 = a full
   * core). Well below 100 on a pinned run means other processes took the core.
   */
  serverCpuPercent?: number;
  /** Responses per CPU-second of the server: throughput normalised by the CPU it really got. */
  reqPerServerCpuSecond?: number;
  /** Share of one core the benchmark process (autocannon) used: near 100 means the load generator was the limit. */
  clientCpuPercent: number;
  /** 1-minute load average of the machine at the end of the run. */
  loadAverage1m: number;
}

/** Percentile by nearest rank on sorted data. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * One autocannon run. Latencies are collected from every response event
 * because autocannon's own histogram has p97.5 but no p95.
 */
function fire(origin: string, scenario: Scenario, connections: number, seconds: number, latencies?: number[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 30,
        headers: { accept: 'application/fhir+json', ...(scenario.authorization ? { authorization: scenario.authorization } : {}) },
        requests: scenario.requests,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (latencies) {
      instance.on('response', (_client, _status, _bytes, responseTime) => {
        latencies.push(responseTime);
      });
    }
  });
}

/**
 * Warms the server up with the scenario (not counted), then measures it for
 * `duration` seconds with `connections` connections, pipelining 1.
 */
export async function measure(origin: string, scenario: Scenario, load: LoadSettings): Promise<WorkloadResult> {
  if (load.warmup > 0) {
    await sleep(SETTLE_MS);
    await scenario.beforeRun?.();
    await fire(origin, scenario, load.connections, load.warmup);
  }
  await sleep(SETTLE_MS);
  await scenario.beforeRun?.();
  const latencies: number[] = [];
  const cpuBefore = load.serverCpuSeconds?.();
  const clientBefore = process.cpuUsage();
  const result = await fire(origin, scenario, load.connections, load.duration, latencies);
  const cpuAfter = load.serverCpuSeconds?.();
  const client = process.cpuUsage(clientBefore);
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const sorted = Float64Array.from(latencies).sort();
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    name: scenario.name,
    description: scenario.description,
    connections: load.connections,
    durationSeconds: result.duration,
    responses: latencies.length,
    reqPerSec: round(result.requests.average, 1),
    latencyMs: {
      mean: round(mean),
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? NaN),
    },
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    serverCpuPercent: cpu !== undefined ? round((100 * cpu) / result.duration, 0) : undefined,
    reqPerServerCpuSecond: cpu ? round(latencies.length / cpu, 0) : undefined,
    clientCpuPercent: round((client.user + client.system) / 1e4 / result.duration, 0),
    loadAverage1m: round(os.loadavg()[0] as number),
  };
}
