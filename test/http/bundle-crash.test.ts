import crypto from 'node:crypto';
import { createTestAuth, type TestAuth } from '../support/auth';
import { ACTORS } from '../support/dmp-world';
import { startServer, type ServerProcess } from '../support/server-process';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

/**
 * Crash test: a real server process runs a stream of transactions and
 * single writes and is killed with SIGKILL at a random moment; after each
 * restart, every transaction is all or nothing and every acknowledged write
 * is there. `npm test` runs a few rounds; `npm run test:crash` runs
 * CRASH_ROUNDS (default there: 12) on each store.
 */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);
const PER_BUNDLE = 5;

const DATABASES: [string, () => Record<string, string>][] = [
  ['sqlite', () => ({ DATA_DIR: tempDir('dmp-crash-') })],
  ...(process.env.MONGODB_URL
    ? ([['mongo', () => ({ MONGODB_URL: process.env.MONGODB_URL as string, MONGODB_DB: `test_${crypto.randomBytes(6).toString('hex')}` })]] as [string, () => Record<string, string>][])
    : []),
];

/** Directory resources: the administrator writes them without any DMP fact, so the test is about storage only. */
const org = (system: string, value: string, n: number) => ({ resourceType: 'Organization', identifier: [{ system, value }], name: `crash ${value} ${n}` });

describe.each(DATABASES)('SIGKILL during a stream of transactions and writes (%s)', (name, database) => {
  // FerretDB serves a transaction in tens of milliseconds: kill later there, so that transactions are in flight.
  const window = name === 'mongo' ? [600, 1500] : [150, 500];
  let auth: TestAuth;
  let token: string;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    auth = await createTestAuth();
    token = await auth.tokenFor({ ...ACTORS.admin } as never);
    Object.assign(env, database(), { VALIDATE_DMP_PROFILES: 'false' });
  });
  afterAll(removeTempDirs);

  const call = async (server: ServerProcess, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${server.url}/fhir/${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const count = async (server: ServerProcess, system: string, value: string) => {
    const res = await fetch(`${server.url}/fhir/Organization?identifier=${encodeURIComponent(`${system}|${value}`)}&_summary=count`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    return ((await res.json()) as { total: number }).total;
  };

  test(`${ROUNDS} kills: every transaction whole or absent, every acknowledged write present`, async () => {
    const sentBundles: string[] = [];
    const ackedBundles = new Set<string>();
    const ackedSingles: string[] = [];
    let server = await startServer(env, auth);
    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const stream = async (worker: number) => {
        for (let i = 0; !stop; i++) {
          const id = `r${round}-w${worker}-${i}`;
          try {
            if (i % 3 === 2) {
              if ((await call(server, 'POST', 'Organization', org('urn:crash:single', id, 0))) === 201) ackedSingles.push(id);
            } else {
              sentBundles.push(id);
              const entry = Array.from({ length: PER_BUNDLE }, (_, n) => ({ resource: org('urn:crash:tx', id, n), request: { method: 'POST', url: 'Organization' } }));
              if ((await call(server, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry })) === 200) ackedBundles.add(id);
            }
          } catch {
            return; // the server is gone
          }
        }
      };
      const workers = [0, 1, 2].map(stream);
      await new Promise((r) => setTimeout(r, window[0] + Math.random() * window[1]));
      await server.kill();
      stop = true;
      await Promise.all(workers);
      server = await startServer(env, auth);
      for (const id of sentBundles) {
        const n = await count(server, 'urn:crash:tx', id);
        expect([id, n]).toEqual([id, ackedBundles.has(id) ? PER_BUNDLE : n === 0 ? 0 : PER_BUNDLE]);
      }
      for (const id of ackedSingles) expect([id, await count(server, 'urn:crash:single', id)]).toEqual([id, 1]);
    }
    await server.stop();
    if (process.env.CRASH_VERBOSE) console.log({ sent: sentBundles.length, acked: ackedBundles.size, singles: ackedSingles.length });
    expect(ackedBundles.size).toBeGreaterThan(0);
  }, 60_000 + ROUNDS * 30_000);
});
