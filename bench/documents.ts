import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from './cli';
import { frenchPatient, seededRandom } from './data';
import { auth, createResource, FHIR_JSON, getJson, runPool, type SearchBundle } from './http';
import type { Scenario } from './measure';

/**
 * The document sharing and lab workloads (issue #9): ITI-65 bundles with a
 * 1 MB PDF, lab result transactions (1 DiagnosticReport, 20 Observations, a
 * Specimen), and ITI-67 searches by INS over a loaded document set. Their
 * patients use INS serials from 300,000 (bench/workloads.ts lists the others).
 */
const DOCS_SERIAL = 300_000;
const INS_SYSTEM = 'urn:oid:1.2.250.1.213.1.4.8';
const JSON_HEADERS = { 'content-type': FHIR_JSON, accept: FHIR_JSON };
/** Documents per patient in the ITI-67 set; the last of each patient is superseded (status=current leaves it out). */
export const DOCS_PER_PATIENT = 10;
/** Resources a lab bundle writes (the target is in resources/s). */
export const LAB_BUNDLE_RESOURCES = 22;
/** Resources per `transaction-50` request. */
export const TRANSACTION_RESOURCES = 50;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The pdsm4dmp ITI-65 examples were written against PDSm 3.1.0; the server
 * validates them against the profiles they declare, PDSm 3.1.1 (and MHD
 * 4.2.3). Three things differ, and only these are corrected here (the
 * tests, test/documents/, use it too):
 * 1. PDSm 3.1.1 allows a SubmissionSet `source` and a DocumentReference
 *    `author` / `authenticator` to be a PractitionerRole (as-practitionerrole),
 *    Device, Patient (or Organization for the authenticator), not a bare
 *    Practitioner: the contained Practitioner is wrapped in a contained
 *    PractitionerRole naming it by its identifier;
 * 2. MHD's UniqueIdIdentifier (DocumentReference.masterIdentifier) requires
 *    `use` (1..1): `usual` is added.
 */
export function correctedForPdsm311(b: Json): Json {
  for (const e of b.entry) {
    const r = e.resource;
    const practitioner = (r.contained ?? []).find((c: Json) => c.resourceType === 'Practitioner');
    if (!practitioner || (r.resourceType !== 'List' && r.resourceType !== 'DocumentReference')) continue;
    r.contained.push({ resourceType: 'PractitionerRole', id: 'role-author', practitioner: { identifier: practitioner.identifier[0] } });
    if (r.resourceType === 'List') r.source = { reference: '#role-author' };
    if (r.resourceType === 'DocumentReference') {
      r.author = [{ reference: '#role-author' }];
      r.authenticator = { reference: '#role-author' };
      r.masterIdentifier.use = 'usual';
    }
  }
  return b;
}

/** The ITI-65 example of PDSm for the DMP (TD2), corrected for PDSm 3.1.1, without its narratives. */
export function provideTemplate(repoRoot: string): Json {
  const b = JSON.parse(fs.readFileSync(path.join(repoRoot, 'fixtures', 'documents', 'pdsm4dmp', 'Bundle-example-td2-iti65-lot-soumission.json'), 'utf8'));
  for (const e of b.entry) delete e.resource.text;
  return correctedForPdsm311(b);
}

/** A 1 MB PDF-looking payload (a PDF header, then random bytes: incompressible, like a scanned report). */
export function pdf(bytes: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  return Buffer.concat([head, randomBytes(bytes - head.length)]);
}

export async function patients(base: string, count: number, serialBase: number, concurrency: number): Promise<Array<{ id: string; ins: string }>> {
  const r = seededRandom(serialBase);
  const out: Array<{ id: string; ins: string }> = new Array(count);
  await runPool('patients', count, concurrency, async (i) => {
    const spec = frenchPatient(r, serialBase + i);
    out[i] = { id: await createResource(base, spec.body), ins: spec.ins };
  });
  return out;
}

/**
 * `iti65-pdf`: POST /fhir, an ITI-65 Provide Document Bundle (SubmissionSet,
 * DocumentReference with size and SHA-1, Binary of a 1 MB PDF) for one of
 * 50 patients named by INS (conditional reference). `Prefer: return=minimal`:
 * the MHD answer needs the locations only, not the 1.3 MB resource back.
 */
export async function iti65Scenario(base: string, repoRoot: string, concurrency: number): Promise<Scenario> {
  const pool = await patients(base, 50, DOCS_SERIAL + 100_000, concurrency);
  const bytes = pdf(1024 * 1024);
  const template = provideTemplate(repoRoot);
  const bodies = pool.map((p, i) => {
    const b = JSON.parse(JSON.stringify(template));
    for (const e of b.entry) {
      const r = e.resource;
      if (r.subject) r.subject = { reference: `Patient?identifier=${INS_SYSTEM}|${p.ins}` };
      if (r.resourceType === 'Binary') {
        r.contentType = 'application/pdf';
        r.data = bytes.toString('base64');
      }
      if (r.resourceType === 'DocumentReference') {
        Object.assign(r.content[0].attachment, { contentType: 'application/pdf', size: bytes.length, hash: createHash('sha1').update(bytes).digest('base64') });
        r.masterIdentifier.value = `urn:oid:1.2.250.1.999.65.${i}`;
      }
    }
    return JSON.stringify(b);
  });
  let i = 0;
  return {
    name: 'iti65-pdf',
    description: `POST /fhir ITI-65 bundle (SubmissionSet + DocumentReference + 1 MB PDF Binary, ${Math.round(bodies[0].length / 1024)} KB of JSON), patient by INS, Prefer: return=minimal`,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/fhir', headers: { ...req.headers, ...JSON_HEADERS, prefer: 'return=minimal' }, body: bodies[i++ % bodies.length] }) }],
  };
}

/**
 * `lab-bundle`: POST /fhir, a lab transaction: a Specimen (ifNoneExist on
 * its accession number), 20 Observations and a DiagnosticReport (ifNoneExist
 * on the lab's ids), new identifiers each time, so every entry is created;
 * req/s × 22 = resources/s.
 */
export async function labScenario(base: string, concurrency: number): Promise<Scenario> {
  const pool = await patients(base, 50, DOCS_SERIAL + 110_000, concurrency);
  const LAB = 'urn:oid:1.2.250.1.999.1.1';
  const r = seededRandom(65);
  let n = 0;
  const body = () => {
    const k = `B${n++}-${Math.floor(r() * 1e9)}`;
    const patient = { reference: `Patient/${pool[n % pool.length].id}` };
    const when = '2026-11-20T08:15:00+01:00';
    const spec = { fullUrl: 'urn:uuid:0a000000-0000-4000-8000-000000000002', resource: { resourceType: 'Specimen', accessionIdentifier: { system: LAB, value: `ACC-${k}` }, subject: patient, collection: { collectedDateTime: when } }, request: { method: 'POST', url: 'Specimen', ifNoneExist: `accession=${LAB}|ACC-${k}` } };
    const obs = Array.from({ length: 20 }, (_, j) => ({
      fullUrl: `urn:uuid:0b000000-0000-4000-8000-${String(j).padStart(12, '0')}`,
      resource: {
        resourceType: 'Observation', identifier: [{ system: LAB, value: `${k}-${j}` }], status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] }, subject: patient, effectiveDateTime: when, specimen: { reference: spec.fullUrl },
        valueQuantity: { value: Math.round(r() * 100) / 10, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        referenceRange: [{ low: { value: 3.5, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' }, high: { value: 5.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' } }],
        interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N' }] }],
      },
      request: { method: 'POST', url: 'Observation', ifNoneExist: `identifier=${LAB}|${k}-${j}` },
    }));
    const report = {
      fullUrl: 'urn:uuid:0c000000-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'DiagnosticReport', identifier: [{ system: LAB, value: k }], status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '24323-8' }] }, subject: patient, effectiveDateTime: when, issued: '2026-11-20T11:00:00+01:00',
        specimen: [{ reference: spec.fullUrl }], result: obs.map((o) => ({ reference: o.fullUrl })),
      },
      request: { method: 'POST', url: 'DiagnosticReport', ifNoneExist: `identifier=${LAB}|${k}` },
    };
    return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [spec, ...obs, report] });
  };
  return {
    name: 'lab-bundle',
    description: `POST /fhir lab transaction: 1 DiagnosticReport + 20 Observations + 1 Specimen, conditional creates on new identifiers (${LAB_BUNDLE_RESOURCES} resources per request)`,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/fhir', headers: { ...req.headers, ...JSON_HEADERS, prefer: 'return=minimal' }, body: body() }) }],
  };
}

/**
 * `transaction-50` (issue #8): POST /fhir, a transaction of 50 entries with
 * urn:uuid references: an Encounter and 49 Observations (vital signs) whose
 * `encounter` is the Encounter's urn:uuid, rewritten to its new id; plain
 * POSTs, no conditional entries; req/s × 50 = resources/s.
 */
export async function transactionScenario(base: string, concurrency: number): Promise<Scenario> {
  const pool = await patients(base, 50, DOCS_SERIAL + 120_000, concurrency);
  const r = seededRandom(50);
  let n = 0;
  const body = () => {
    const patient = { reference: `Patient/${pool[n++ % pool.length].id}` };
    const when = '2026-11-21T09:30:00+01:00';
    const encounter = {
      fullUrl: 'urn:uuid:0d000000-0000-4000-8000-000000000001',
      resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: patient, period: { start: when } },
      request: { method: 'POST', url: 'Encounter' },
    };
    const obs = Array.from({ length: TRANSACTION_RESOURCES - 1 }, (_, j) => ({
      fullUrl: `urn:uuid:0e000000-0000-4000-8000-${String(j).padStart(12, '0')}`,
      resource: {
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: patient, encounter: { reference: encounter.fullUrl }, effectiveDateTime: when,
        valueQuantity: { value: 50 + Math.round(r() * 60), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'POST', url: 'Observation' },
    }));
    return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [encounter, ...obs] });
  };
  return {
    name: 'transaction-50',
    description: `POST /fhir transaction: 1 Encounter + ${TRANSACTION_RESOURCES - 1} Observations referencing it by urn:uuid (${TRANSACTION_RESOURCES} resources per request)`,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/fhir', headers: { ...req.headers, ...JSON_HEADERS, prefer: 'return=minimal' }, body: body() }) }],
  };
}

/** The ITI-67 document set: `documents` DocumentReferences, DOCS_PER_PATIENT per patient, loaded by transactions of 10 patients' documents. */
export interface DocumentSet {
  patients: Array<{ id: string; ins: string; current: string[] }>;
  total: number;
  loadSeconds: number;
}

export async function loadDocuments(base: string, documents: number, concurrency: number): Promise<DocumentSet> {
  const started = Date.now();
  const pool = await patients(base, Math.max(1, Math.floor(documents / DOCS_PER_PATIENT)), DOCS_SERIAL, concurrency);
  const set = pool.map((p) => ({ ...p, current: [] as string[] }));
  const perBundle = 10;
  await runPool('documents (bundles of 100)', Math.ceil(set.length / perBundle), Math.min(concurrency, 8), async (b) => {
    const group = set.slice(b * perBundle, (b + 1) * perBundle);
    const entry = group.flatMap((p) =>
      Array.from({ length: DOCS_PER_PATIENT }, (_, j) => ({
        resource: {
          resourceType: 'DocumentReference',
          status: j === DOCS_PER_PATIENT - 1 ? 'superseded' : 'current',
          type: { coding: [{ system: 'http://loinc.org', code: ['11488-4', '34133-9', '18842-5', '11502-2'][j % 4] }] },
          subject: { reference: `Patient/${p.id}` },
          date: `2026-0${1 + (j % 9)}-1${j % 10}T10:00:00+01:00`,
          description: `Document ${j + 1}`,
          securityLabel: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] }],
          content: [{ attachment: { contentType: 'application/pdf', url: `Binary/bench-${p.id}-${j}`, size: 1024 } }],
        },
        request: { method: 'POST', url: 'DocumentReference' },
      })),
    );
    const res = await fetch(`${base}`, { method: 'POST', headers: { ...JSON_HEADERS, prefer: 'return=minimal', ...auth() }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
    if (res.status !== 200) throw new BenchError(`document load transaction -> HTTP ${res.status}: ${(await res.text()).slice(0, 400)}`);
    const answer = (await res.json()) as { entry: Array<{ response: { location: string } }> };
    answer.entry.forEach((e, k) => {
      if (k % DOCS_PER_PATIENT !== DOCS_PER_PATIENT - 1) group[Math.floor(k / DOCS_PER_PATIENT)].current.push(e.response.location.split('/')[1]);
    });
  });
  return { patients: set, total: set.length * DOCS_PER_PATIENT, loadSeconds: (Date.now() - started) / 1000 };
}

const iti67Query = (ins: string) => `DocumentReference?patient.identifier=${encodeURIComponent(`${INS_SYSTEM}|${ins}`)}&status=current`;

/** Checks 30 ITI-67 answers against the loaded set before anything is timed (exact ids: the 9 current documents). */
export async function verifyDocuments(base: string, set: DocumentSet): Promise<void> {
  const r = seededRandom(67);
  for (let k = 0; k < 30; k++) {
    const p = set.patients[Math.floor(r() * set.patients.length)];
    const got = ((await getJson<SearchBundle>(base, iti67Query(p.ins))).entry ?? []).map((e) => e.resource?.id ?? '?').sort();
    const want = [...p.current].sort();
    if (got.join() !== want.join()) throw new BenchError(`ITI-67 check failed for ${iti67Query(p.ins)}: expected ${want.length} documents, got ${got.length}`);
  }
}

/** `iti67-ins`: GET DocumentReference?patient.identifier=INS&status=current, random patients of the set (9 matches each). */
export function iti67Scenario(set: DocumentSet): Scenario {
  const r = seededRandom(68);
  return {
    name: 'iti67-ins',
    description: `GET ${iti67Query('{INS}')} over ${set.total} documents of ${set.patients.length} patients (${DOCS_PER_PATIENT - 1} matches each)`,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: `/fhir/${iti67Query(set.patients[Math.floor(r() * set.patients.length)].ins)}` }) }],
  };
}
