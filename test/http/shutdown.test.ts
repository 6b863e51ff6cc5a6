import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestAuth, type TestAuth } from '../support/auth';
import { ACTORS } from '../support/dmp-world';
import { startServer } from '../support/server-process';

/** Sends raw HTTP/1.1 on one keep-alive connection, so the test decides when each byte goes. */
function connect(url: string): Promise<{ socket: net.Socket; response: () => Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      let received = '';
      socket.on('data', (d) => (received += String(d)));
      const response = async () => {
        for (let i = 0; i < 200 && !/\r\n\r\n/.test(received); i++) await new Promise((r) => setTimeout(r, 25));
        return received;
      };
      resolve({ socket, response });
    });
    socket.once('error', reject);
  });
}

/**
 * Graceful shutdown (src/server.ts): on SIGTERM the server stops accepting,
 * lets the requests in flight finish, closes the store and exits 0. A
 * keep-alive client whose request was in flight keeps its connection open
 * afterwards, and a client may hold a connection it never used; the
 * server must still close them and exit, not wait for the hard timeout
 * (exit 1, the store never closed).
 */
describe('graceful shutdown (sqlite, a real server process)', () => {
  let auth: TestAuth;
  beforeAll(async () => {
    auth = await createTestAuth();
  });

  test('a request in flight at SIGTERM is answered and kept; the idle keep-alive connection is closed; exit 0 within 5 s', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-shutdown-'));
    const token = await auth.tokenFor({ ...ACTORS.admin } as never);
    const env = { DATA_DIR: dataDir, VALIDATE_DMP_PROFILES: 'false' };
    try {
      const server = await startServer(env, auth);
      const body = JSON.stringify({ resourceType: 'Organization', name: 'Clinique du Parc' });
      const { socket, response } = await connect(server.url);
      const head = [
        'POST /fhir/Organization HTTP/1.1',
        `Host: ${new URL(server.url).host}`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/fhir+json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: keep-alive',
        '',
        '',
      ].join('\r\n');
      // Headers and half the body: the request is in flight when the signal comes.
      socket.write(head + body.slice(0, 10));
      await new Promise((r) => setTimeout(r, 200));
      const stoppedAt = Date.now();
      server.signal('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      socket.write(body.slice(10));
      const answer = await response();
      expect(answer).toMatch(/^HTTP\/1\.1 201 /);
      const location = /\r\nLocation: [^\r]*\/fhir\/(Organization\/[^/\r]+)/i.exec(answer)?.[1];
      expect(location).toBeDefined();
      // The client keeps its connection open (as keep-alive pools do): the server closes it and exits cleanly.
      const { code, signal } = await server.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      socket.destroy();
      // What was answered is there after a restart.
      const again = await startServer(env, auth);
      try {
        const res = await fetch(`${again.url}/fhir/${location}`, { headers: { Authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { name: string }).name).toBe('Clinique du Parc');
      } finally {
        await again.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a connection opened and never used (a preconnect, a pool\'s spare socket) does not hold the shutdown: exit 0 within 5 s', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-shutdown-'));
    try {
      const server = await startServer({ DATA_DIR: dataDir, VALIDATE_DMP_PROFILES: 'false' }, auth);
      const { socket } = await connect(server.url);
      // Let the server accept it, then stop with the connection open and silent.
      await new Promise((r) => setTimeout(r, 200));
      const stoppedAt = Date.now();
      server.signal('SIGTERM');
      const { code, signal } = await server.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      socket.destroy();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
