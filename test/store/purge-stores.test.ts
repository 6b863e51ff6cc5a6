import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { CLOSURE_EXTENSION } from '../../src/access/codes';
import { contentRefOf } from '../../src/fhir/binary/content-ref';
import { applyPurge, findPurgeable, purgeCutoff } from '../../src/fhir/purge';
import { BASE_URL, FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { dmpDocument, dmpPatient } from '../support/dmp-world';
import { STORES } from '../support/stores';

/**
 * The purge on each store (npm run purge is its command line, tested on
 * SQLite in test/access/purge.test.ts): a DMP closed over 10 years ago goes
 * with everything it holds, including what the access index no longer
 * lists (deleted resources) and the Binaries its documents point to, bytes
 * included; nothing of an open DMP is touched.
 */
describe.each(STORES)('purge through the store port ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = async (type: string, body: unknown) => {
    const res = await request(t.app).post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  test('a deleted document, every version and a document’s Binary with its content go with the DMP; an open DMP keeps its own', async () => {
    const old = await post('Patient', { ...dmpPatient('270017512345672'), active: false, extension: [{ url: CLOSURE_EXTENSION, extension: [{ url: 'date', valueDateTime: '2011-05-01T00:00:00Z' }] }] });
    const kept = await post('DocumentReference', dmpDocument(old, '11488-4', [], 'v1'));
    const deleted = await post('DocumentReference', dmpDocument(old, '11488-4', [], 'supprimé'));
    expect((await request(t.app).delete(`/fhir/DocumentReference/${deleted}`)).status).toBe(200);
    const upload = await request(t.app).post('/fhir/Binary').set('Content-Type', 'application/pdf').send(Buffer.from('%PDF-1.7 ancien compte rendu'));
    expect(upload.status).toBe(201);
    const binary = upload.body.id as string;
    const withBinary = await post('DocumentReference', { ...dmpDocument(old, '11488-4'), content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${binary}` } }] });
    const content = contentRefOf(JSON.parse((await t.store.readCurrent('Binary', binary))?.json as string) as Resource)?.id as string;
    await (await t.store.openContent(content)).destroy();
    const open = await post('Patient', dmpPatient('270017512345673'));
    const openDoc = await post('DocumentReference', dmpDocument(open, '11488-4'));

    const [found, ...others] = await findPurgeable(t.store, purgeCutoff(Date.now()), BASE_URL);
    expect(others).toEqual([]);
    expect(found.patientId).toBe(old);
    expect(found.resources.map((r) => `${r.type}/${r.id}`).sort()).toEqual(
      [`Patient/${old}`, `DocumentReference/${kept}`, `DocumentReference/${deleted}`, `DocumentReference/${withBinary}`, `Binary/${binary}`].sort(),
    );
    expect(await applyPurge(t.store, [found])).toBe(5);

    for (const [type, id] of [['Patient', old], ['DocumentReference', kept], ['DocumentReference', deleted], ['DocumentReference', withBinary], ['Binary', binary]]) {
      expect(await t.store.readVersion(type, id, 1)).toBeUndefined();
    }
    await expect(t.store.openContent(content)).rejects.toThrow();
    expect(await t.store.readCurrent('Patient', open)).toBeDefined();
    expect(await t.store.readCurrent('DocumentReference', openDoc)).toBeDefined();
  });
});
