import type { AuditEvent } from '@medplum/fhirtypes';
import crypto from 'node:crypto';
import { patientChain } from '../../src/audit/codes';
import { verifyChain } from '../../src/audit/verify';
import type { ResourceStore } from '../../src/store/port';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createTestAuth, type TestAuth } from '../support/auth';
import { ACTORS, dmpDocument, dmpPatient } from '../support/dmp-world';
import { startServer, type ServerProcess } from '../support/server-process';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

/**
 * "An answer is sent only once its AuditEvent is durable" (DMP-RULES.md
 * § 8 item 10), tested the hard way: a real server process under read and
 * search load is killed with SIGKILL at random moments; after each crash
 * every request that was answered 2xx has its AuditEvent, and the patient's
 * chain is whole. Then two processes write one chain at once: still whole.
 */
interface Database {
  env: Record<string, string>;
  open(): Promise<ResourceStore>;
}

const DATABASES: [string, () => Database][] = [
  [
    'sqlite',
    () => {
      const dir = tempDir('dmp-crash-');
      return { env: { DATA_DIR: dir }, open: async () => new SqliteStore({ dataDir: dir }) };
    },
  ],
  ...(process.env.MONGODB_URL
    ? ([
        [
          'mongo',
          () => {
            const dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
            const url = process.env.MONGODB_URL as string;
            return {
              env: { MONGODB_URL: url, MONGODB_DB: dbName },
              open: async () => {
                const s = new MongoStore({ url, dbName });
                await s.init();
                return s;
              },
            };
          },
        ],
      ] as [string, () => Database][])
    : []),
];

const ROUNDS = 3;
/** Shortest time under load before a kill. FerretDB (CI's MongoDB) serves a few dozen audited reads of one patient per second, SQLite thousands. */
const LOAD_MS: Record<string, number> = { sqlite: 300, mongo: 1500 };
const MIN_ANSWERED: Record<string, number> = { sqlite: 20, mongo: 5 };

describe.each(DATABASES)('audit durability under SIGKILL (%s)', (name, makeDatabase) => {
  let auth: TestAuth;
  let db: Database;
  let pid: string;
  let doc: string;
  const servers: ServerProcess[] = [];

  const call = async (server: ServerProcess, claims: object, method: string, p: string, body?: unknown, requestId?: string) => {
    const res = await fetch(`${server.url}/fhir/${p}`, {
      method,
      headers: {
        Authorization: `Bearer ${await auth.tokenFor(claims as never)}`,
        'Content-Type': 'application/fhir+json',
        ...(requestId ? { 'X-Request-Id': requestId } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as { id: string } };
  };
  const start = async () => {
    const s = await startServer({ ...db.env, VALIDATE_DMP_PROFILES: 'false' }, auth);
    servers.push(s);
    return s;
  };

  /** Request ids of the AuditEvents in the patient's chain, read from the database with no server running. */
  async function auditedRequestIds(): Promise<{ ids: Set<string>; whole: boolean }> {
    const store = await db.open();
    try {
      const ids = new Set<string>();
      for (const l of await store.chainLinks(patientChain(pid), 0, 1_000_000)) {
        const ev = JSON.parse(l.json) as AuditEvent;
        for (const e of ev.entity ?? []) if (e.what?.identifier?.value) ids.add(e.what.identifier.value);
      }
      return { ids, whole: !(await verifyChain(store, patientChain(pid))).broken };
    } finally {
      await store.close();
    }
  }

  /** Parallel reads and searches with fresh request ids until `until` resolves; returns the ids answered 2xx. */
  async function load(server: ServerProcess, until: Promise<void>): Promise<string[]> {
    const answered: string[] = [];
    let stop = false;
    void until.then(() => (stop = true));
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const rid = `crash-${name}-${w}-${i}-${crypto.randomBytes(3).toString('hex')}`;
        const p = i % 2 === 0 ? `DocumentReference/${doc}` : `DocumentReference?patient=${pid}`;
        try {
          if ((await call(server, ACTORS.gp, 'GET', p, undefined, rid)).status === 200) answered.push(rid);
        } catch {
          return; // the server is gone
        }
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(worker));
    return answered;
  }

  beforeAll(async () => {
    auth = await createTestAuth();
    db = makeDatabase();
    const s = await start();
    pid = (await call(s, ACTORS.gp, 'POST', 'Patient', dmpPatient('290017512345631'))).body.id;
    doc = (await call(s, ACTORS.author, 'POST', 'DocumentReference', dmpDocument(pid, '11488-4'))).body.id;
    await s.stop();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    removeTempDirs();
  });

  test(`${ROUNDS} kills at random moments lose no AuditEvent of an answered request`, async () => {
    const answered: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const server = await start();
      const killed = new Promise<void>((resolve) => setTimeout(() => void server.kill().then(resolve), LOAD_MS[name] * (1 + 2 * Math.random())));
      answered.push(...(await load(server, killed)));
      await killed;
    }
    expect(answered.length).toBeGreaterThan(MIN_ANSWERED[name]);
    const { ids, whole } = await auditedRequestIds();
    expect(answered.filter((rid) => !ids.has(rid))).toEqual([]);
    expect(whole).toBe(true);
  }, 120_000);

  test('two processes writing one patient chain at once keep it whole', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const done = new Promise<void>((resolve) => setTimeout(resolve, 3 * LOAD_MS[name]));
    const answered = [...(await Promise.all([load(a, done), load(b, done)])).flat()];
    await Promise.all([a.stop(), b.stop()]);
    expect(answered.length).toBeGreaterThan(MIN_ANSWERED[name]);
    const { ids, whole } = await auditedRequestIds();
    expect(answered.filter((rid) => !ids.has(rid))).toEqual([]);
    expect(whole).toBe(true);
  }, 120_000);
});
