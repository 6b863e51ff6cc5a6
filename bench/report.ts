import { LAB_BUNDLE_RESOURCES, TRANSACTION_RESOURCES } from './documents';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkloadResult } from './measure';

/**
 * Performance targets: embedded SQLite store, one server core, validation on
 * (the brief of `npm run bench`).
 */
export const TARGETS: Record<string, { minReqPerSec: number; maxP99Ms?: number; text: string }> = {
  create: { minReqPerSec: 1500, text: '>= 1,500 req/s' },
  read: { minReqPerSec: 4000, text: '>= 4,000 req/s' },
  'search-token': { minReqPerSec: 1000, maxP99Ms: 50, text: '>= 1,000 req/s, p99 <= 50 ms' },
  'search-include': { minReqPerSec: 300, text: '>= 300 req/s' },
  'iti65-pdf': { minReqPerSec: 100, text: '>= 100 bundles/s' },
  // 1,500 resources/s at 22 resources per bundle.
  'lab-bundle': { minReqPerSec: 1500 / LAB_BUNDLE_RESOURCES, text: '>= 1,500 resources/s (68.2 bundles/s)' },
  'iti67-ins': { minReqPerSec: 2000, text: '>= 2,000 searches/s' },
  // 3,000 resources/s at 50 entries per transaction.
  'transaction-50': { minReqPerSec: 3000 / TRANSACTION_RESOURCES, text: '>= 3,000 resources/s (60 bundles/s)' },
};

/** Whether a result meets its target; undefined when the workload has none. */
export function targetMet(r: WorkloadResult): boolean | undefined {
  const t = TARGETS[r.name];
  if (!t) return undefined;
  const clean = r.responses > 0 && r.non2xx === 0 && r.errors === 0;
  return clean && r.reqPerSec >= t.minReqPerSec && (t.maxP99Ms === undefined || r.latencyMs.p99 <= t.maxP99Ms);
}

/** The machine, for the report: CPU count and model, load when the run started. */
export interface MachineInfo {
  cpusOnline: number;
  cpuModel: string;
  totalMemoryMb: number;
  loadAverage: number[];
  node: string;
  gitCommit?: string;
  gitDirty?: boolean;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const git = (args: string[]) => spawnSync('git', args, { encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpusOnline: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMb: Math.round(os.totalmem() / 1024 ** 2),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    gitCommit: head.status === 0 ? head.stdout.trim() : undefined,
    gitDirty: dirty.status === 0 ? dirty.stdout.trim().length > 0 : undefined,
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Prints the results table with each target and whether it is met. */
export function printTable(results: WorkloadResult[]): void {
  const head = ['workload', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'non-2xx', 'errors', 'srv CPU', 'req/CPU-s', 'target', 'met'];
  const widths = [17, 7, 7, 7, 8, 7, 6, 7, 9, 28, 3];
  const right = [false, true, true, true, true, true, true, true, true, false, false];
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] as number, right[i])).join('  ');
  process.stdout.write(`\n${line(head)}\n${'-'.repeat(widths.reduce((a, b) => a + b + 2, -2))}\n`);
  for (const r of results) {
    const met = targetMet(r);
    process.stdout.write(
      `${line([
        r.name,
        fmt(r.reqPerSec, 0),
        fmt(r.latencyMs.p50, 2),
        fmt(r.latencyMs.p95, 2),
        fmt(r.latencyMs.p99, 2),
        String(r.non2xx),
        String(r.errors),
        r.serverCpuPercent === undefined ? '-' : `${r.serverCpuPercent}%`,
        r.reqPerServerCpuSecond === undefined ? '-' : String(r.reqPerServerCpuSecond),
        TARGETS[r.name]?.text ?? '-',
        met === undefined ? '' : met ? 'yes' : 'NO',
      ])}\n`,
    );
  }
  process.stdout.write(
    '  srv CPU: share of one core the server process used during the run (well under 100% = it did not get its core).\n' +
      '  req/CPU-s: responses per CPU-second of the server, less sensitive to a busy machine than req/s.\n',
  );
  const bad = results.filter((r) => r.non2xx > 0);
  for (const r of bad) {
    process.stdout.write(`  ! ${r.name}: non-2xx answers by status: ${JSON.stringify(r.statusCodes)}\n`);
  }
}

/** Writes the whole run as JSON to `<outDir>/results-<timestamp>.json`; returns the path. */
export function writeJson(outDir: string, report: Record<string, unknown>): string {
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(outDir, `results-${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
