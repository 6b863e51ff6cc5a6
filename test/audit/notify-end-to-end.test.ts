import type { Communication } from '@medplum/fhirtypes';
import pino from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import type { Notifier } from '../../src/audit/notify';
import { consoleSender } from '../../src/audit/notify/senders';
import type { ResourceStore } from '../../src/store/port';
import { BASE_URL, FHIR_JSON } from '../support/app';
import { createTestAuth, type TestAuth } from '../support/auth';
import { ACTORS, dmpConsent, dmpDocument, dmpPatient, ids, RPPS } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { categoryOf, notifier, textOf } from './notify-support';

/**
 * The whole path: requests through the app, audited by the audit core,
 * which hands each interaction to the notifier before answering. The
 * dispatcher is not started: this is about what is notified.
 */
describe.each(STORES)('notifications of real requests ($name)', (fixture) => {
  let store: ResourceStore;
  let auth: TestAuth;
  let app: Express;
  let n: Notifier;
  beforeAll(async () => {
    store = await fixture.open();
    auth = await createTestAuth();
    n = notifier(store, consoleSender());
    app = createApp({
      config: { baseUrl: BASE_URL, maxBodyBytes: 1024 * 1024, defaultPageSize: 20, maxPageSize: 100 },
      store,
      logger: pino({ level: 'silent' }),
      authenticator: auth.authenticator,
      notifier: n,
    });
  });
  afterAll(async () => {
    await n?.stop();
    await fixture.dispose(store);
  });

  /** One request with a real signed token; fails unless answered `status`. */
  const call = async (claims: object, method: 'get' | 'post', path: string, body: unknown, status: number) => {
    const r = request(app)[method](`/fhir/${path}`).set('Authorization', `Bearer ${await auth.tokenFor(claims as never)}`);
    const res = await (body === undefined ? r : r.set('Content-Type', FHIR_JSON).send(JSON.stringify(body)));
    expect(res.status).toBe(status);
    return res;
  };

  test('a document, first accesses once per professional, every emergency access; nothing for refusals; the patient reads them all', async () => {
    const P = (await call(ACTORS.gp, 'post', 'Patient', dmpPatient('280017512345622'), 201)).body.id as string;
    const patient = { role: 'patient', patient: P, sub: `patient-${P}` };
    const doc = (await call(ACTORS.lab, 'post', 'DocumentReference', dmpDocument(P, '11502-2', [], 'Glycémie à jeun 1,32 g/L'), 201)).body.id as string;
    await call(patient, 'post', 'Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]), 201);
    await call(ACTORS.pharmacist, 'get', `DocumentReference/${doc}`, undefined, 200);
    await call(ACTORS.pharmacist, 'get', `DocumentReference/${doc}`, undefined, 200);
    await call(ACTORS.pharmacist, 'get', `DocumentReference?patient=${P}`, undefined, 200);
    await call(ACTORS.stranger, 'get', `DocumentReference/${doc}`, undefined, 403);
    await call(ACTORS.breakGlass, 'get', `DocumentReference/${doc}`, undefined, 200);
    await call(ACTORS.breakGlass, 'get', `DocumentReference?patient=${P}`, undefined, 200);

    const bundle = (await call(patient, 'get', `Communication?subject=Patient/${P}&_count=50`, undefined, 200)).body as { entry?: { resource: Communication }[] };
    const notices = (bundle.entry ?? []).map((e) => e.resource);
    const of = (category: string) => notices.filter((c) => categoryOf(c) === category);
    expect(of('new-document')).toHaveLength(1);
    expect(of('new-document')[0].about).toEqual([{ reference: `DocumentReference/${doc}` }]);
    expect(of('emergency-access')).toHaveLength(2);
    expect(of('first-access').filter((c) => textOf(c).includes(`RPPS ${RPPS.pharmacist}`))).toHaveLength(1);
    // Refused: no notice naming the stranger; and nothing of the document's content anywhere.
    expect(notices.filter((c) => textOf(c).includes(RPPS.stranger))).toEqual([]);
    expect(notices.filter((c) => /glyc|1,32/i.test(textOf(c)))).toEqual([]);
    // The patient reading them notified nothing more.
    const again = (await call(patient, 'get', `Communication?subject=Patient/${P}&_count=50`, undefined, 200)).body;
    expect(ids(again).sort()).toEqual(notices.map((c) => c.id).sort());
  });
});
