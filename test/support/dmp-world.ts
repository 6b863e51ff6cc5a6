import type { Resource } from '@medplum/fhirtypes';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { RPPS_SYSTEM, VISIBILITY_SYSTEM } from '../../src/access/codes';
import { createApp } from '../../src/app';
import type { ResourceStore } from '../../src/store/port';
import type { ExportSettings } from '../../src/fhir/export/jobs';
import { BASE_URL, FHIR_JSON } from './app';
import { createTestAuth, type TestClaims } from './auth';
import type { StoreFixture } from './stores';

export const RPPS = {
  gp: '10000000001',
  author: '10000000002',
  pharmacist: '21000000003',
  dietitian: '95000000004',
  blocked: '10000000005',
  stranger: '10000000006',
  emergency: '10000000007',
  regulator: '10000000008',
};

/** The principals of the scenarios, as token claims. */
export const ACTORS = {
  gp: { role: 'professional', rpps: RPPS.gp, profession: '10' },
  author: { role: 'professional', rpps: RPPS.author, profession: '10' },
  pharmacist: { role: 'professional', rpps: RPPS.pharmacist, profession: '21' },
  dietitian: { role: 'professional', rpps: RPPS.dietitian, profession: '95' },
  blocked: { role: 'professional', rpps: RPPS.blocked, profession: '10' },
  stranger: { role: 'professional', rpps: RPPS.stranger, profession: '10' },
  breakGlass: { role: 'professional', rpps: RPPS.emergency, profession: '10', purpose_of_use: 'bris_de_glace' },
  regulator: { role: 'regulator', rpps: RPPS.regulator, purpose_of_use: 'centre_15' },
  lab: { role: 'feeder', sub: 'lab-biomed', organization: 'lab-1' },
  cnam: { role: 'assurance-maladie', sub: 'cnam' },
  insurer: { role: 'insurer', sub: 'mutuelle' },
  employer: { role: 'employer', sub: 'employer' },
  occupationalPhysician: { role: 'occupational-physician', sub: 'medecin-du-travail', rpps: '10000000099' },
  admin: { role: 'admin', sub: 'ops' },
} as const;
export type ActorName = keyof typeof ACTORS | 'patient' | 'representative';

/** An app with authentication and access control on, and a request helper per actor. */
export interface DmpWorld {
  app: Express;
  store: ResourceStore;
  /** A token for an actor; `patient`/`representative` act for `patientId`. */
  token(actor: ActorName, patientId?: string): Promise<string>;
  as(actor: ActorName, patientId?: string): Promise<Client>;
  /** A client whose token carries exactly these claims (for principals the named actors do not cover). */
  withClaims(claims: TestClaims): Promise<Client>;
  close(): Promise<void>;
}

export interface Client {
  get(path: string): request.Test;
  post(path: string, body: unknown, headers?: Record<string, string>): request.Test;
  put(path: string, body: unknown, headers?: Record<string, string>): request.Test;
  patch(path: string, ops: unknown, headers?: Record<string, string>): request.Test;
  delete(path: string): request.Test;
}

export async function openDmpWorld(
  fixture: StoreFixture,
  opts: { accessListLimit?: number; export?: ExportSettings; validateDmpProfiles?: boolean; maxBodyBytes?: number } = {},
): Promise<DmpWorld> {
  const store = await fixture.open();
  const auth = await createTestAuth();
  const app = createApp({
    config: { baseUrl: BASE_URL, maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024, defaultPageSize: 20, maxPageSize: 100, export: opts.export },
    store,
    logger: pino({ level: 'silent' }),
    authenticator: auth.authenticator,
    accessListLimit: opts.accessListLimit,
    validateDmpProfiles: opts.validateDmpProfiles,
  });
  const token = (actor: ActorName, patientId?: string) =>
    actor === 'patient' || actor === 'representative'
      ? auth.tokenFor({ role: actor, patient: patientId, sub: `${actor}-${patientId}` })
      : auth.tokenFor({ ...ACTORS[actor] });
  const clientFor = (jwt: string): Client => {
    const bearer = `Bearer ${jwt}`;
    const json = (r: request.Test, body: unknown, type: string, headers: Record<string, string>) =>
      r.set('Authorization', bearer).set('Content-Type', type).set(headers).send(JSON.stringify(body));
    return {
      get: (path) => request(app).get(`/fhir/${path}`).set('Authorization', bearer),
      post: (path, body, headers = {}) => json(request(app).post(`/fhir/${path}`), body, FHIR_JSON, headers),
      put: (path, body, headers = {}) => json(request(app).put(`/fhir/${path}`), body, FHIR_JSON, headers),
      patch: (path, ops, headers = {}) => json(request(app).patch(`/fhir/${path}`), ops, 'application/json-patch+json', headers),
      delete: (path) => request(app).delete(`/fhir/${path}`).set('Authorization', bearer),
    };
  };
  const as = async (actor: ActorName, patientId?: string) => clientFor(await token(actor, patientId));
  const withClaims = async (claims: TestClaims) => clientFor(await auth.tokenFor(claims));
  return { app, store, token, as, withClaims, close: () => fixture.dispose(store) };
}

/** A Patient (INS-NIR) whose médecin traitant is named by RPPS. */
export function dmpPatient(ins: string, gpRpps: string = RPPS.gp): Resource {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: ins }],
    name: [{ family: 'Martin', given: ['Léa'] }],
    gender: 'female',
    birthDate: '1985-04-12',
    generalPractitioner: [{ identifier: { system: RPPS_SYSTEM, value: gpRpps } }],
  } as Resource;
}

/** A DocumentReference of a LOINC / TRE_A05 type with TRE_A07 labels. */
export function dmpDocument(patientId: string, type: string, labels: string[] = [], title = `document ${type}`): Resource {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: /^\d/.test(type) ? 'http://loinc.org' : 'https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire', code: type }] },
    subject: { reference: `Patient/${patientId}` },
    description: title,
    securityLabel: labels.map((code) => ({ coding: [{ system: VISIBILITY_SYSTEM, code }] })),
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(title).toString('base64') } }],
  } as Resource;
}

/** An authorisation (permit) or block (deny) Consent naming professionals by RPPS, or an opposition to emergency modes. */
export function dmpConsent(patientId: string, type: 'permit' | 'deny', rpps: string[], purposes: string[] = []): Resource {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId}` },
    // ppc-1: a Consent names a policy; OPTIN / OPTOUT say which way.
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type === 'permit' ? 'OPTIN' : 'OPTOUT' }] },
    provision: {
      type,
      ...(rpps.length > 0 ? { actor: rpps.map((r) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { identifier: { system: RPPS_SYSTEM, value: r } } })) } : {}),
      ...(purposes.length > 0 ? { purpose: purposes.map((code) => ({ system: 'https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces', code })) } : {}),
    },
  } as Resource;
}

/** Ids of a searchset's matches. */
export function ids(bundle: { entry?: { resource?: { id?: string }; search?: { mode?: string } }[] }): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => e.resource?.id as string);
}
