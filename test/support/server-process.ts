import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TEST_AUDIENCE, TEST_ISSUER, type TestAuth } from './auth';

const ROOT = path.join(__dirname, '..', '..');

/** A real server process (dist/src/server.js, built by the global setup) on a loopback port. */
export interface ServerProcess {
  url: string;
  /** The child's process id (e.g. to read its memory in /proc). */
  pid: number;
  stop(): Promise<void>;
  /** How the process ended (its exit code, or the signal that ended it), once it has. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal without waiting (stop() sends SIGTERM and waits). */
  signal(sig: NodeJS.Signals): void;
  /** Kills the process at once (SIGKILL: no graceful shutdown, as in a crash); resolves once it is gone. */
  kill(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A temporary directory with the test JWKS, for AUTH_JWKS_FILE. */
export function jwksFile(auth: TestAuth): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-jwks-'));
  const file = path.join(dir, 'jwks.json');
  fs.writeFileSync(file, JSON.stringify(auth.jwks));
  return file;
}

/** Starts the server with the test key trusted and `env` added; resolves once /fhir/metadata answers. */
export async function startServer(env: Record<string, string>, auth: TestAuth): Promise<ServerProcess> {
  const port = await freePort();
  const jwks = jwksFile(auth);
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'server.js')], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      AUTH_JWKS_FILE: jwks,
      BASE_URL: TEST_AUDIENCE,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The key file is the child's alone: gone with it.
  child.once('exit', () => fs.rmSync(path.dirname(jwks), { recursive: true, force: true }));
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // A server that dies on its own (not stopped or killed by the test) says why, instead of a bare ECONNREFUSED later.
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) process.stderr.write(`test server on port ${port} exited with code ${code}: ${stderr.slice(-2000)}\n`);
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/fhir/metadata`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid as number,
    exited,
    signal: (sig) => void child.kill(sig),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
