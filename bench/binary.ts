import crypto from 'node:crypto';
import http from 'node:http';

/** What the Binary workload measured: MB/s each way, and the time of one 10 MB transfer. */
export interface BinaryResult {
  name: 'binary';
  sizeMb: number;
  connections: number;
  uploads: number;
  uploadMbPerSec: number;
  uploadP50Ms: number;
  downloads: number;
  downloadMbPerSec: number;
  downloadP50Ms: number;
  failures: number;
}

const MB = 1024 * 1024;

/**
 * The `binary` workload (issue #8): raw `POST /fhir/Binary` of 10 MB
 * (application/pdf) for `seconds`, then `GET /fhir/Binary/{id}` of those
 * Binaries for as long, each with `connections` transfers in flight.
 * MB/s = bytes moved ÷ wall time. Every download is checked byte for byte
 * (SHA-256) against what was sent. See bench/README.md.
 */
export async function binaryWorkload(base: string, authorization: string, seconds: number, connections = 2): Promise<BinaryResult> {
  const body = crypto.randomBytes(10 * MB);
  const digest = crypto.createHash('sha256').update(body).digest('hex');
  const ids: string[] = [];
  let failures = 0;
  const up = await timed(seconds, connections, async () => {
    const r = await transfer(`${base}/Binary`, 'POST', authorization, body);
    if (r.status !== 201) return void failures++;
    ids.push((JSON.parse(r.body.toString()) as { id: string }).id);
  });
  let next = 0;
  const down = await timed(seconds, connections, async () => {
    const r = await transfer(`${base}/Binary/${ids[next++ % ids.length]}`, 'GET', authorization);
    if (r.status !== 200 || crypto.createHash('sha256').update(r.body).digest('hex') !== digest) failures++;
  });
  const rate = (n: number, ms: number) => (n * body.length) / MB / (ms / 1000);
  return {
    name: 'binary',
    sizeMb: body.length / MB,
    connections,
    uploads: up.count,
    uploadMbPerSec: rate(up.count, up.wallMs),
    uploadP50Ms: up.p50,
    downloads: down.count,
    downloadMbPerSec: rate(down.count, down.wallMs),
    downloadP50Ms: down.p50,
    failures,
  };
}

/** Runs `once` in `connections` loops until `seconds` have passed; the transfers finished and their median time. */
async function timed(seconds: number, connections: number, once: () => Promise<void>): Promise<{ count: number; wallMs: number; p50: number }> {
  const times: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await once();
        times.push(performance.now() - t);
      }
    }),
  );
  const sorted = [...times].sort((a, b) => a - b);
  return { count: times.length, wallMs: performance.now() - start, p50: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0) };
}

function transfer(url: string, method: 'GET' | 'POST', authorization: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization, ...(body ? { 'content-type': 'application/pdf', 'content-length': String(body.length) } : {}) };
    const req = http.request(url, { method, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const agent = new http.Agent({ keepAlive: true });
