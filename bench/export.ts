import type { DataSet } from './dataset';
import { BenchError } from './cli';
import type { RunningServer } from './server';

/** What the `export` workload measured. */
export interface ExportResult {
  name: 'export';
  resources: number;
  files: number;
  megabytes: number;
  /** Kick-off to the completion manifest. */
  exportSeconds: number;
  /** Downloading every file (streamed, read to the end). */
  downloadSeconds: number;
  /** The server process: RSS before the kick-off, and its peak (VmHWM) at the end, in MB. */
  rssBeforeMb?: number;
  peakRssMb?: number;
}

/**
 * The `$export` workload: a system-level Bulk Data export of everything the
 * server holds, on a server freshly started on the loaded data (the bench's
 * baseline entry, access control off: under the DMP rules nobody may
 * bulk-export every patient), so that its peak RSS is the export's. Polls
 * the status URL every 200 ms, then downloads every file, counting lines,
 * and checks the total against the data set.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 */
export async function runExportWorkload(server: RunningServer, ds: DataSet, say: (s: string) => void): Promise<ExportResult> {
  const rssBeforeMb = server.memory()?.rssMb;
  const started = Date.now();
  const kick = await fetch(`${server.base}/$export`, { headers: { prefer: 'respond-async', accept: 'application/fhir+json' } });
  await kick.arrayBuffer();
  const status = kick.headers.get('content-location');
  if (kick.status !== 202 || !status) throw new BenchError(`$export kick-off answered ${kick.status}`);
  let manifest: { output: { type: string; url: string; count: number }[] } | undefined;
  while (!manifest) {
    const res = await fetch(status);
    if (res.status === 200) manifest = (await res.json()) as typeof manifest;
    else if (res.status === 202) {
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 200));
    } else throw new BenchError(`$export status answered ${res.status}: ${await res.text()}`);
  }
  const exportSeconds = (Date.now() - started) / 1000;
  const downloadStart = Date.now();
  let bytes = 0;
  let lines = 0;
  for (const o of manifest.output) {
    const res = await fetch(o.url);
    if (res.status !== 200 || !res.body) throw new BenchError(`download ${o.url}: ${res.status}`);
    let n = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) n++;
    }
    if (n !== o.count) throw new BenchError(`${o.url}: ${n} lines, the manifest says ${o.count}`);
    lines += n;
  }
  const downloadSeconds = (Date.now() - downloadStart) / 1000;
  // Every loaded resource, per type (the server's own Communications, the notifications, come on top).
  for (const [type, count] of Object.entries(ds.counts)) {
    const exported = manifest.output.filter((o) => o.type === type).reduce((a, o) => a + o.count, 0);
    if (exported !== count) throw new BenchError(`$export wrote ${exported} ${type}, the data set holds ${count}`);
  }
  const result: ExportResult = {
    name: 'export',
    resources: lines,
    files: manifest.output.length,
    megabytes: bytes / 1024 ** 2,
    exportSeconds,
    downloadSeconds,
    rssBeforeMb,
    peakRssMb: server.memory()?.peakRssMb,
  };
  say(
    `  export: ${lines} resources in ${result.files} files (${result.megabytes.toFixed(0)} MB) written in ${exportSeconds.toFixed(1)} s (${Math.round(lines / exportSeconds)} resources/s), downloaded in ${downloadSeconds.toFixed(1)} s; server RSS ${rssBeforeMb?.toFixed(0) ?? '?'} MB before, peak ${result.peakRssMb?.toFixed(0) ?? '?'} MB`,
  );
  return result;
}
