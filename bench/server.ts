import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { BenchError } from './cli';
import type { Pinning } from './pinning';
import { PAGE_SIZE } from './search-workloads';

/** What the server is started with. */
export interface ServerOptions {
  store: 'sqlite' | 'mongo';
  mongodbUrl?: string;
  pinning: Pinning;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs: string[];
  keepData: boolean;
  /** `server`: dist/src/server.js (authentication and access control on); `baseline`: the bench's entry with both off. */
  entry: 'server' | 'baseline';
  /** Extra environment (the bench's AUTH_* settings, VALIDATE_DMP_PROFILES). */
  env?: Record<string, string>;
  /** Reuse this DATA_DIR (and keep it) instead of a fresh temporary one. */
  dataDir?: string;
}

/** A running server process and how to stop it. */
export interface RunningServer {
  /** FHIR base, e.g. http://127.0.0.1:40123/fhir */
  base: string;
  pid: number;
  /** Where the data lives (temp dir, or mongo URL + database). */
  dataLocation: string;
  /** The SQLite DATA_DIR (undefined on MongoDB). */
  dataDir?: string;
  /** Current and peak resident memory of the server process, from /proc/<pid>/status. */
  memory(): { rssMb: number; peakRssMb: number } | undefined;
  /** CPU seconds (user + system, all threads) the server has used so far, from /proc/<pid>/stat. */
  cpuSeconds(): number | undefined;
  /** SIGTERM (graceful: the store flushes), SIGKILL after 10 s; then removes temporary data. Idempotent. */
  stop(): Promise<void>;
}

/** A free loopback port: bind port 0, read it, release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function readMemory(pid: number): { rssMb: number; peakRssMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+)\\s*kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && n > 0 ? n : 100;
})();

function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Forwards the server's output, prefixed, and keeps the tail for start-up errors. */
function forward(child: ChildProcess, tail: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        // Error logs carry whole stacks: one readable line per entry is enough here.
        process.stderr.write(`[server] ${line.length > 400 ? `${line.slice(0, 400)}…` : line}\n`);
      }
    });
  }
}

async function waitForMetadata(base: string, child: ChildProcess, tail: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new BenchError(`server exited during start-up (code ${child.exitCode}, signal ${child.signalCode}):\n${tail.join('\n')}`);
    }
    try {
      const res = await fetch(`${base}/metadata`, { headers: { accept: 'application/fhir+json' } });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new BenchError(`server did not answer ${base}/metadata within 60 s:\n${tail.join('\n')}`);
}

/**
 * Starts `node dist/src/server.js` on a free 127.0.0.1 port with a fresh
 * store (temporary DATA_DIR, or a new MongoDB database), LOG_LEVEL=warn,
 * pinned with taskset when possible, and waits until /fhir/metadata answers.
 * The process is killed when this process exits, whatever the reason.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/fhir`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    BASE_URL: base,
    LOG_LEVEL: 'warn',
    // The search checks count on this page size, whatever the caller's environment says.
    SEARCH_DEFAULT_COUNT: String(PAGE_SIZE),
    // The search data set is realistic but not DMP-profile conformant; bench/profiles.ts measures profile validation.
    VALIDATE_DMP_PROFILES: 'false',
    ...opts.env,
  };
  // An inherited MONGODB_URL would silently turn a SQLite run into a Mongo run.
  delete env.MONGODB_URL;
  delete env.MONGODB_DB;
  let dataDir: string | undefined;
  let mongoDb: string | undefined;
  if (opts.store === 'mongo') {
    mongoDb = `dmp_bench_${Date.now()}`;
    env.MONGODB_URL = opts.mongodbUrl;
    env.MONGODB_DB = mongoDb;
  } else {
    dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-bench-'));
    env.DATA_DIR = dataDir;
  }
  const entry = opts.entry === 'baseline' ? path.resolve(__dirname, 'baseline-server.js') : path.resolve(__dirname, '..', 'src', 'server.js');
  const nodeArgv = [...opts.nodeArgs, entry];
  const child = opts.pinning.pinned
    ? spawn('taskset', ['-c', String(opts.pinning.serverCpu), process.execPath, ...nodeArgv], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, nodeArgv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  forward(child, tail);
  // taskset execs node, so child.pid is the server's pid (for /proc and signals).
  const pid = child.pid as number;
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killNow);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(killNow, 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killNow);
      if (opts.keepData || opts.dataDir) return;
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      if (mongoDb && opts.mongodbUrl) await dropDatabase(opts.mongodbUrl, mongoDb);
    })();
    return stopped;
  };

  try {
    await waitForMetadata(base, child, tail);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    base,
    pid,
    dataDir,
    dataLocation: dataDir ?? `${opts.mongodbUrl} database ${mongoDb}`,
    memory: () => readMemory(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    stop,
  };
}

async function dropDatabase(url: string, db: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await client.db(db).dropDatabase();
  } catch (err) {
    process.stderr.write(`could not drop MongoDB database ${db}: ${(err as Error).message}\n`);
  } finally {
    await client.close();
  }
}
