import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { Label } from '../../src/access/codes';
import { patientChain } from '../../src/audit/codes';
import { dmpDocument, dmpPatient, openDmpWorld, type ActorName, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { removeTempDirs } from '../support/temp-dirs';
import { download, exportSettings, refsOf, runExport } from './export-support';

const local = (url: string) => url.replace(/^https:\/\/dmp\.test/, '');

describe.each(STORES)('Bulk Data $export ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string;
  let Q: string;
  const settings = exportSettings(3600, 10);
  const ids: Record<string, string> = {};
  const bearer = async (actor: ActorName, patient?: string) => `Bearer ${await w.token(actor, patient)}`;
  const kick = async (actor: ActorName, p: string, patient?: string) =>
    request(w.app).get(`/fhir/${p}`).set('Prefer', 'respond-async').set('Authorization', await bearer(actor, patient));

  beforeAll(async () => {
    w = await openDmpWorld(fixture, { export: settings });
    const gp = await w.as('gp');
    const admin = await w.as('admin');
    P = (await gp.post('Patient', dmpPatient('277017512345621'))).body.id;
    Q = (await gp.post('Patient', dmpPatient('277017512345622'))).body.id;
    ids.practitioner = (await admin.post('Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Durand' }] })).body.id;
    const author = await w.as('author');
    const obs = (subject: string, code: string) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code }] },
      subject: { reference: `Patient/${subject}` },
      performer: [{ reference: `Practitioner/${ids.practitioner}` }],
      valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    ids.pulse = (await author.post('Observation', obs(P, '8867-4'))).body.id;
    ids.weight = (await author.post('Observation', obs(P, '29463-7'))).body.id;
    ids.otherPatient = (await author.post('Observation', obs(Q, '8867-4'))).body.id;
    ids.doc = (await author.post('DocumentReference', dmpDocument(P, '11488-4', [], 'note'))).body.id;
    ids.masked = (await author.post('DocumentReference', dmpDocument(P, '11488-4', [Label.maskedFromProfessionals], 'masked'))).body.id;
    ids.invisible = (await author.post('DocumentReference', dmpDocument(P, '11488-4', [Label.invisibleToPatient], 'not yet announced'))).body.id;
    ids.notForReps = (await author.post('DocumentReference', dmpDocument(P, '11488-4', [Label.invisibleToRepresentatives], 'for the patient only'))).body.id;
    for (const id of Object.values(ids)) expect(id).toBeDefined();
  });
  afterAll(async () => {
    await w.close();
    fs.rmSync(settings.dir, { recursive: true, force: true });
  });

  test('the patient exports their DMP: kick-off, poll, manifest, NDJSON files equal to their $everything', async () => {
    const b = await bearer('patient', P);
    const { manifest } = await runExport(w.app, `Patient/${P}/$export`, b);
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.request).toBe(`https://dmp.test/fhir/Patient/${P}/$export`);
    expect(Number.isNaN(Date.parse(manifest.transactionTime))).toBe(false);
    expect(manifest.error).toEqual([]);
    const files = await download(w.app, manifest, b);
    const everything = await (await w.as('patient', P)).get(`Patient/${P}/$everything?_count=100`);
    const expected = (everything.body.entry as { resource: Resource }[]).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    expect(refsOf(files)).toEqual(expected);
    expect(refsOf(files)).toContain(`Practitioner/${ids.practitioner}`);
    expect(refsOf(files)).not.toContain(`DocumentReference/${ids.invisible}`);
    expect(refsOf(files)).toContain(`DocumentReference/${ids.masked}`);
    expect(refsOf(files)).not.toContain(`Observation/${ids.otherPatient}`);
  });

  test('a legal representative exports without what is hidden from representatives', async () => {
    const b = await bearer('representative', P);
    const files = await download(w.app, (await runExport(w.app, `Patient/${P}/$export`, b)).manifest, b);
    expect(refsOf(files)).toContain(`DocumentReference/${ids.doc}`);
    expect(refsOf(files)).not.toContain(`DocumentReference/${ids.notForReps}`);
    expect(refsOf(files)).not.toContain(`DocumentReference/${ids.invisible}`);
  });

  test('_type, _since and _typeFilter', async () => {
    const b = await bearer('patient', P);
    const typed = await download(w.app, (await runExport(w.app, `Patient/${P}/$export?_type=Observation`, b)).manifest, b);
    expect([...typed.keys()]).toEqual(['Observation']);
    expect(refsOf(typed)).toEqual([`Observation/${ids.pulse}`, `Observation/${ids.weight}`].sort());
    const filtered = await download(w.app, (await runExport(w.app, `Patient/${P}/$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|29463-7')}`, b)).manifest, b);
    expect(refsOf(filtered)).toEqual([`Observation/${ids.weight}`]);
    const since = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const late = (await (await w.as('author')).post('DocumentReference', dmpDocument(P, '11488-4', [], 'late'))).body.id as string;
    const recent = await download(w.app, (await runExport(w.app, `Patient/${P}/$export?_since=${encodeURIComponent(since)}`, b)).manifest, b);
    expect(refsOf(recent)).toEqual([`DocumentReference/${late}`]);
  });

  test('bad kick-offs are 400: no Prefer: respond-async, another _outputFormat, an unknown parameter or type, a bad filter', async () => {
    const b = await bearer('patient', P);
    expect((await request(w.app).get(`/fhir/Patient/${P}/$export`).set('Authorization', b)).status).toBe(400);
    for (const q of ['_outputFormat=text/csv', 'patient=Patient/x', '_type=Nonsense', '_type=Questionnaire', '_typeFilter=Observation', '_type=Condition&_typeFilter=Observation%3Fcode%3Dx', '_since=2024']) {
      const res = await kick('patient', `Patient/${P}/$export?${q}`, P);
      expect([q, res.status]).toEqual([q, 400]);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    for (const f of ['application/fhir+ndjson', 'application/ndjson', 'ndjson']) {
      expect((await kick('patient', `Patient/${P}/$export?_outputFormat=${encodeURIComponent(f)}`, P)).status).toBe(202);
    }
  });

  test('who may export what (DMP-RULES.md § 5): own DMP only, the administrator directory and conformance only', async () => {
    const refused: [ActorName, string, string?][] = [
      ['gp', `Patient/${P}/$export`],
      ['pharmacist', `Patient/${P}/$export`],
      ['admin', `Patient/${P}/$export`],
      ['lab', `Patient/${P}/$export`],
      ['insurer', `Patient/${P}/$export`],
      ['patient', `Patient/${P}/$export`, Q],
      ['representative', `Patient/${P}/$export`, Q],
      ['patient', '$export', P],
      ['gp', '$export'],
      ['admin', '$export?_type=Observation'],
      ['admin', '$export?_type=Practitioner,Patient'],
      ['patient', 'Patient/$export', P],
      ['gp', 'Patient/$export'],
      ['admin', 'Patient/$export?_type=Practitioner'],
      ['admin', 'Group/g1/$export'],
      ['patient', 'Group/g1/$export', P],
    ];
    for (const [actor, p, patient] of refused) {
      const res = await kick(actor, p, patient);
      expect([actor, p, res.status]).toEqual([actor, p, 403]);
    }
    expect((await request(w.app).get(`/fhir/Patient/${P}/$export`).set('Prefer', 'respond-async')).status).toBe(401);
    // The administrator's system export: directory and conformance resources only.
    const admin = await bearer('admin');
    const files = await download(w.app, (await runExport(w.app, '$export', admin)).manifest, admin);
    expect([...files.keys()]).toEqual(['Practitioner']);
  });

  test('the files and the status belong to who started the export; others get 404', async () => {
    const b = await bearer('patient', P);
    const { status, manifest } = await runExport(w.app, `Patient/${P}/$export?_type=Observation`, b);
    const other = await bearer('patient', Q);
    expect((await request(w.app).get(status).set('Authorization', other)).status).toBe(404);
    expect((await request(w.app).get(local(manifest.output[0].url)).set('Authorization', other)).status).toBe(404);
    expect((await request(w.app).get(local(manifest.output[0].url)).set('Authorization', await bearer('gp'))).status).toBe(404);
    expect((await request(w.app).get(local(manifest.output[0].url))).status).toBe(401);
    expect((await request(w.app).get(`${status}/Patient.ndjson`).set('Authorization', b)).status).toBe(404);
    expect((await request(w.app).get(`${status}/..%2Fjob.json`).set('Authorization', b)).status).toBe(404);
  });

  test('DELETE on the status URL cancels: 202, then 404, and the files are gone', async () => {
    const b = await bearer('patient', P);
    const { status } = await runExport(w.app, `Patient/${P}/$export`, b);
    const job = status.split('/').pop() as string;
    expect(fs.existsSync(path.join(settings.dir, job))).toBe(true);
    expect((await request(w.app).delete(status).set('Authorization', b)).status).toBe(202);
    expect((await request(w.app).get(status).set('Authorization', b)).status).toBe(404);
    expect(fs.existsSync(path.join(settings.dir, job))).toBe(false);
    expect((await request(w.app).delete(status).set('Authorization', b)).status).toBe(404);
  });

  test('each kick-off, poll and download is one AuditEvent in the patient\'s chain', async () => {
    const seq = async () => (await w.store.chainHead(patientChain(P)))?.seq ?? 0;
    const b = await bearer('patient', P);
    const before = await seq();
    const res = await request(w.app).get(`/fhir/Patient/${P}/$export?_type=Patient`).set('Prefer', 'respond-async').set('Authorization', b);
    expect(res.status).toBe(202);
    expect(await seq()).toBe(before + 1);
    const status = local(res.headers['content-location'] as string);
    let polled = 0;
    let body: { output: { url: string }[] } | undefined;
    while (!body) {
      const r = await request(w.app).get(status).set('Authorization', b);
      polled++;
      if (r.status === 200) body = JSON.parse(r.text);
      else expect(r.headers['x-progress']).toBeDefined();
    }
    expect(await seq()).toBe(before + 1 + polled);
    expect((await request(w.app).get(local(body.output[0].url)).set('Authorization', b)).status).toBe(200);
    expect(await seq()).toBe(before + 2 + polled);
  });
});

describe.each(STORES)('export files expire ($name)', (fixture) => {
  test('after EXPORT_TTL_SECONDS the job and its files are gone (404)', async () => {
    const settings = exportSettings(1);
    const w = await openDmpWorld(fixture, { export: settings });
    try {
      const P = (await (await w.as('gp')).post('Patient', dmpPatient('277017512345631'))).body.id as string;
      const b = `Bearer ${await w.token('patient', P)}`;
      const { status, manifest } = await runExport(w.app, `Patient/${P}/$export`, b);
      expect(manifest.output.map((o) => o.type)).toEqual(['Patient']);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await request(w.app).get(status).set('Authorization', b)).status).toBe(404);
      expect((await request(w.app).get(local(manifest.output[0].url)).set('Authorization', b)).status).toBe(404);
      expect(fs.readdirSync(settings.dir)).toEqual([]);
    } finally {
      await w.close();
      fs.rmSync(settings.dir, { recursive: true, force: true });
    }
  });
});

// The export directories of every block, once all have run.
afterAll(removeTempDirs);
