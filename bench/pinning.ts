import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * CPU pinning. The targets are "per server core", so the server runs on one
 * core (`taskset -c <server>`) and the load generator on another: the bench
 * process re-executes itself under `taskset -c <client>` once, and autocannon
 * runs in it (no autocannon workers: one core of load is plenty for these
 * rates, and functions such as setupRequest stay plain closures).
 */
export interface Pinning {
  pinned: boolean;
  /** CPU for the server process, when pinned. */
  serverCpu?: number;
  /** CPU for the benchmark (load generator), when pinned. */
  clientCpu?: number;
  /** Why we run unpinned, printed in the report. */
  note: string;
}

const ENV_FLAG = 'DMP_BENCH_CLIENT_CPU';

/** CPUs this process may run on, from /proc/self/status (e.g. "0-1" or "0,2-3"). */
function allowedCpus(): number[] {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1]?.trim();
    if (!list) return [];
    const cpus: number[] = [];
    for (const part of list.split(',')) {
      const [first, last] = part.split('-').map(Number) as [number, number | undefined];
      for (let c = first; c <= (last ?? first); c++) cpus.push(c);
    }
    return cpus;
  } catch {
    return [];
  }
}

function hasTaskset(): boolean {
  const r = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Decides the pinning. When it is possible and we are not yet pinned, the
 * caller must call {@link reexecPinned} and stop.
 */
export function decidePinning(noPin: boolean): Pinning & { needsReexec: boolean } {
  if (noPin) return { pinned: false, needsReexec: false, note: 'unpinned (--no-pin)' };
  if (!hasTaskset()) return { pinned: false, needsReexec: false, note: 'unpinned: taskset not found' };
  const inherited = process.env[ENV_FLAG];
  if (inherited !== undefined) {
    const [client, server] = inherited.split(':').map(Number);
    return { pinned: true, needsReexec: false, clientCpu: client, serverCpu: server, note: `server on CPU ${server}, load generator on CPU ${client}` };
  }
  const cpus = allowedCpus();
  if (cpus.length < 2) return { pinned: false, needsReexec: false, note: `unpinned: only ${cpus.length || 'unknown'} CPU(s) allowed` };
  const [serverCpu, clientCpu] = cpus as [number, number];
  return { pinned: true, needsReexec: true, serverCpu, clientCpu, note: `server on CPU ${serverCpu}, load generator on CPU ${clientCpu}` };
}

/**
 * Runs this same script again under `taskset -c <clientCpu>` and resolves with
 * its exit code. Ctrl-C reaches the child through the terminal's process
 * group; this parent ignores it and waits, so the child can stop the server.
 */
export function reexecPinned(p: Pinning): Promise<number> {
  const args = ['-c', String(p.clientCpu), process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn('taskset', args, {
    stdio: 'inherit',
    env: { ...process.env, [ENV_FLAG]: `${p.clientCpu}:${p.serverCpu}` },
  });
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
