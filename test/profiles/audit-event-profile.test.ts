import type { AuditEvent, OperationOutcomeIssue } from '@medplum/fhirtypes';
import request from 'supertest';
import { CHAIN_EXTENSION } from '../../src/audit/codes';
import { DMP_BASE, defaultConformanceRoots, loadProfileRegistry } from '../../src/fhir/profiles';
import { validateWithProfiles } from '../../src/fhir/profiles/operations';
import { createValidator } from '../../src/fhir/validation';
import { dmpConsent, dmpDocument, dmpPatient, openDmpWorld, RPPS, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

const PROFILE = `${DMP_BASE}/StructureDefinition/dmp-audit-event`;

/**
 * The AuditEvents the server writes conform to the profile it publishes for
 * them (dmp-audit-event, with its chain-link extension): read, search,
 * write, refusal, emergency access and the 401 security event, as stored.
 */
describe.each(STORES)('the AuditEvents written conform to dmp-audit-event ($name)', (fixture) => {
  let world: DmpWorld;
  const base = createValidator();
  const registry = loadProfileRegistry(defaultConformanceRoots());

  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    const gp = await world.as('gp');
    const pid = (await gp.post('Patient', dmpPatient('270017512345611'))).body.id as string;
    const author = await world.as('author');
    const doc = (await author.post('DocumentReference', dmpDocument(pid, '11488-4', [], 'Compte rendu'))).body.id as string;
    await (await world.as('patient', pid)).post('Consent', dmpConsent(pid, 'permit', [RPPS.pharmacist]));
    await gp.get(`DocumentReference/${doc}`).expect(200);
    await gp.get(`DocumentReference?patient=Patient/${pid}`).expect(200);
    await (await world.as('stranger')).get(`DocumentReference/${doc}`);
    await (await world.as('breakGlass')).get(`DocumentReference/${doc}`).expect(200);
    await request(world.app).get('/fhir/Patient').set('Authorization', 'Bearer not-a-token').expect(401);
  });
  afterAll(async () => {
    await world.close();
  });

  async function storedEvents(): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for (const chain of await world.store.listChains(undefined, 1000)) {
      for (const link of await world.store.chainLinks(chain, 0, 100000)) events.push(JSON.parse(link.json) as AuditEvent);
    }
    return events;
  }

  test('every stored AuditEvent validates against the profile with no issue at all', async () => {
    const events = await storedEvents();
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(events.every((e) => e.extension?.some((x) => x.url === CHAIN_EXTENSION))).toBe(true);
    const found: { id?: string; issues: OperationOutcomeIssue[] }[] = [];
    for (const ev of events) {
      const issues = validateWithProfiles(base, registry, ev, { implicit: false }, [PROFILE]);
      if (issues.length > 0) found.push({ id: ev.id, issues });
    }
    expect(found).toEqual([]);
  });

  test('a chain link without its sequence number is an error', async () => {
    const [ev] = await storedEvents();
    const link = ev.extension!.find((x) => x.url === CHAIN_EXTENSION)!;
    link.extension = link.extension!.filter((x) => x.url !== 'seq');
    const issues = validateWithProfiles(base, registry, ev, { implicit: false }, [PROFILE]);
    expect(issues.filter((i) => i.severity === 'error').length).toBeGreaterThan(0);
  });
});
