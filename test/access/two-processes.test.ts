import crypto from 'node:crypto';
import { createTestAuth, type TestAuth } from '../support/auth';
import { ACTORS, dmpConsent, dmpDocument, dmpPatient, RPPS } from '../support/dmp-world';
import { startServer, type ServerProcess } from '../support/server-process';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

/**
 * Access facts are cached per process and invalidated through the store's
 * change marker: a revocation made through one server process applies to
 * the very next request served by another one on the same database.
 */
const DATABASES: [string, () => Record<string, string>][] = [
  ['sqlite', () => ({ DATA_DIR: tempDir('dmp-2p-') })],
  ...(process.env.MONGODB_URL
    ? ([['mongo', () => ({ MONGODB_URL: process.env.MONGODB_URL as string, MONGODB_DB: `test_${crypto.randomBytes(6).toString('hex')}` })]] as [string, () => Record<string, string>][])
    : []),
];

describe.each(DATABASES)('two server processes on one database (%s)', (_name, database) => {
  let auth: TestAuth;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    auth = await createTestAuth();
    // The test documents are minimal, not DMP-profile conformant: this test is about the cache, not validation.
    const env = { ...database(), VALIDATE_DMP_PROFILES: 'false' };
    [a, b] = await Promise.all([startServer(env, auth), startServer(env, auth)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    removeTempDirs();
  });

  const call = async (server: ServerProcess, claims: object, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${server.url}/fhir/${p}`, {
      method,
      headers: { Authorization: `Bearer ${await auth.tokenFor(claims as never)}`, 'Content-Type': 'application/fhir+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as { id: string } };
  };

  test('a revocation through one process applies to the next request served by the other', async () => {
    const P = (await call(a, ACTORS.gp, 'POST', 'Patient', dmpPatient('270017512345604'))).body.id;
    const patient = { role: 'patient', patient: P, sub: `patient-${P}` };
    const docId = (await call(a, ACTORS.author, 'POST', 'DocumentReference', dmpDocument(P, '57833-6'))).body.id;
    expect((await call(b, ACTORS.pharmacist, 'GET', `DocumentReference/${docId}`)).status).toBe(403);
    const consent = await call(a, patient, 'POST', 'Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]));
    expect(consent.status).toBe(201);
    // B had cached "no right"; the permit written through A applies at once.
    expect((await call(b, ACTORS.pharmacist, 'GET', `DocumentReference/${docId}`)).status).toBe(200);
    expect((await call(b, ACTORS.pharmacist, 'GET', `DocumentReference/${docId}`)).status).toBe(200);
    expect((await call(a, patient, 'DELETE', `Consent/${consent.body.id}`)).status).toBe(200);
    expect((await call(b, ACTORS.pharmacist, 'GET', `DocumentReference/${docId}`)).status).toBe(403);
    expect((await call(b, ACTORS.pharmacist, 'GET', `DocumentReference?patient=${P}`)).status).toBe(403);
  });
});
