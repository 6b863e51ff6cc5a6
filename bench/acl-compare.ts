import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AclWorkload } from './acl';
import type { BenchAuth } from './auth';
import type { BenchOptions, WorkloadName } from './cli';
import { measure, type LoadSettings, type WorkloadResult } from './measure';
import { waitForOutbox } from './outbox';
import { startServer, type RunningServer } from './server';

/** The three servers the access-control workloads compare (issue #6 and #7 targets). */
export const ACL_SETTINGS = ['on', 'no audit', 'off'] as const;
export type AclSetting = (typeof ACL_SETTINGS)[number];

/** One round of one workload: a run on each server, and the two ratios to "off". */
export interface AclRound {
  round: number;
  runs: Record<AclSetting, WorkloadResult>;
  /** req/s everything on ÷ all off (issue #7: ≥ 70 %). */
  onRatio: number;
  /** req/s access control without audit ÷ all off (issue #6: ≥ 85 %). */
  noAuditRatio: number;
}

export interface AclComparison {
  workload: WorkloadName;
  rounds: AclRound[];
  /** Medians over the rounds of each ratio. */
  medianOnRatio: number;
  medianNoAuditRatio: number;
}

type Say = (s: string) => void;

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The order of the three servers in round `r`: rotated from one round to the
 * next, so that none is always measured first (on a warmer or colder
 * machine) or right after the same neighbour.
 */
export function roundOrder(r: number): AclSetting[] {
  return ACL_SETTINGS.map((_, i) => ACL_SETTINGS[(i + r) % ACL_SETTINGS.length] as AclSetting);
}

/**
 * The access-control and audit comparison on the embedded store: the
 * pharmacist's workloads on three servers over copies of the same data,
 * running side by side (pinned to the same core, idle while another is
 * measured): everything on (authentication, DMP rules, matrix, audit trail),
 * access control without the audit, and the baseline with all three off.
 * They are measured in `rounds` interleaved rounds, each workload on each
 * server in turn, so that the machine's drift over minutes (other virtual
 * machines on the host) touches the three alike; the ratios are taken per
 * round and their medians reported. Returns the "off" server, left running;
 * the other two are stopped and their copies removed.
 */
export async function compareAccessControl(
  loadingServer: RunningServer,
  serverOpts: Parameters<typeof startServer>[0],
  workloads: readonly AclWorkload[],
  auth: BenchAuth,
  opts: BenchOptions,
  load: LoadSettings,
  say: Say,
): Promise<{ server: RunningServer; comparisons: AclComparison[]; results: WorkloadResult[] }> {
  await waitForOutbox(loadingServer.dataDir, say);
  // A stopped server leaves its SQLite file checkpointed (empty WAL): the copies, taken then, start alike.
  await loadingServer.stop();
  const source = loadingServer.dataDir as string;
  const copies = ACL_SETTINGS.slice(1).map((s) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dmp-bench-${s.replace(' ', '-')}-`));
    fs.cpSync(source, dir, { recursive: true });
    return dir;
  });
  const servers: Record<AclSetting, RunningServer> = {
    on: await startServer({ ...serverOpts, entry: 'server', env: auth.env, dataDir: source }),
    'no audit': await startServer({ ...serverOpts, entry: 'baseline', env: { ...auth.env, BENCH_BASELINE: 'no-audit' }, dataDir: copies[0] }),
    off: await startServer({ ...serverOpts, entry: 'baseline', dataDir: copies[1] }),
  };
  say(`\n${opts.rounds} interleaved rounds: each workload on each of the three servers in turn (order rotated per round)`);
  const comparisons: AclComparison[] = workloads.map((w) => ({ workload: w.name, rounds: [], medianOnRatio: 0, medianNoAuditRatio: 0 }));
  try {
    for (let r = 0; r < opts.rounds; r++) {
      for (const [i, w] of workloads.entries()) {
        const runs = {} as Record<AclSetting, WorkloadResult>;
        for (const setting of roundOrder(r)) runs[setting] = await measureOn(servers[setting], w, setting, auth, load);
        const round: AclRound = { round: r + 1, runs, onRatio: runs.on.reqPerSec / runs.off.reqPerSec, noAuditRatio: runs['no audit'].reqPerSec / runs.off.reqPerSec };
        (comparisons[i] as AclComparison).rounds.push(round);
        say(`  round ${r + 1} ${w.name}: ${ACL_SETTINGS.map((s) => `${s} ${runs[s].reqPerSec.toFixed(0)}`).join(', ')} req/s → on/off ${pct(round.onRatio)}, no audit/off ${pct(round.noAuditRatio)}`);
      }
    }
  } finally {
    await servers.on.stop();
    await servers['no audit'].stop();
    if (!opts.keepData) fs.rmSync(copies[0] as string, { recursive: true, force: true });
  }
  const results: WorkloadResult[] = [];
  for (const c of comparisons) {
    c.medianOnRatio = median(c.rounds.map((x) => x.onRatio));
    c.medianNoAuditRatio = median(c.rounds.map((x) => x.noAuditRatio));
    say(
      `\n${c.workload}: median of ${c.rounds.length} rounds: everything on ${pct(c.medianOnRatio)} of all off (target >= 70%), ` +
        `access control without audit ${pct(c.medianNoAuditRatio)} (target >= 85%)`,
    );
    // The table shows, per server, the run of median req/s.
    for (const s of ACL_SETTINGS) results.push(medianRun(c.rounds.map((x) => x.runs[s])));
  }
  // The "off" server stays up for what the bench does next; its copy goes with it.
  const off = servers.off;
  const stopOff = () => off.stop().then(() => (opts.keepData ? undefined : fs.rmSync(copies[1] as string, { recursive: true, force: true })));
  return { server: { ...off, stop: stopOff }, comparisons, results };
}

/** One run of a workload on the server of `setting` (with the pharmacist's token, but on the baseline with everything off). */
export async function measureOn(server: RunningServer, w: AclWorkload, setting: AclSetting, auth: BenchAuth, load: LoadSettings): Promise<WorkloadResult> {
  const scenario = w.scenario(setting === 'off' ? undefined : auth.pharmacist);
  return measure(new URL(server.base).origin, { ...scenario, name: `${w.name} (${setting})` }, { ...load, serverCpuSeconds: server.cpuSeconds });
}

/** The run whose req/s is the median (the lower middle one for an even count). */
function medianRun(runs: readonly WorkloadResult[]): WorkloadResult {
  const sorted = [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)] as WorkloadResult;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
