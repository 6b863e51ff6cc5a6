import { AccessParam } from '../../src/access/codes';
import { supportedSearchParameters } from '../../src/fhir/capability';
import { loadDefinitions } from '../../src/fhir/definitions';
import { createIndexer } from '../../src/fhir/search/extract';
import { SYNTHETIC_PARAM_PREFIX, sortValues } from '../../src/fhir/search/index-entry';
import { lookupParam, NARROW_INDEX } from '../../src/fhir/search/parse-params';

/**
 * AuditEvents are written once per interaction: only the parameters the
 * access history needs are indexed, declared and searchable; the synthetic
 * access entries get no sort value.
 */
describe('narrow index of server-written types', () => {
  beforeAll(() => loadDefinitions());

  const event = {
    resourceType: 'AuditEvent' as const,
    id: 'a1',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
    action: 'R' as const,
    recorded: '2026-12-01T10:00:00.000Z',
    outcome: '0' as const,
    agent: [{ who: { identifier: { system: 'https://rpps.esante.gouv.fr', value: '10000000001' } }, altId: '10000000001', requestor: true, role: [{ coding: [{ code: 'professional' }] }] }],
    source: { site: 'https://dmp.test/fhir', observer: { display: 'server' } },
    entity: [
      { what: { reference: 'Patient/p1' }, type: { code: '1' }, role: { code: '1' } },
      { what: { reference: 'Observation/o1' }, type: { code: '2' }, role: { code: '4' } },
    ],
  };

  test('an AuditEvent is indexed only on the listed parameters', () => {
    const params = new Set(createIndexer({ baseUrl: 'https://dmp.test/fhir' }).extract(event).map((e) => e.param));
    const allowed = NARROW_INDEX.AuditEvent as ReadonlySet<string>;
    expect([...params].filter((p) => !allowed.has(p))).toEqual([]);
    for (const p of ['date', 'agent', 'altid', 'action', 'outcome', 'subtype', 'entity', 'patient', 'type']) expect(params.has(p)).toBe(true);
  });

  test('the CapabilityStatement declares exactly those, and the others are unknown parameters', () => {
    const declared = supportedSearchParameters('AuditEvent').map((sp) => sp.code).sort();
    expect(declared).toEqual(['action', 'agent', 'altid', 'date', 'entity', 'outcome', 'patient', 'subtype', 'type']);
    expect(() => lookupParam(['AuditEvent'], 'site')).toThrow(/Unknown search parameter 'site'/);
    expect(lookupParam(['AuditEvent'], 'entity').type).toBe('reference');
    // Other types keep every parameter.
    expect(supportedSearchParameters('Observation').length).toBeGreaterThan(30);
  });

  test('synthetic access entries carry no sort value', () => {
    for (const code of Object.values(AccessParam)) expect(code.startsWith(SYNTHETIC_PARAM_PREFIX)).toBe(true);
    const values = sortValues([
      { kind: 'token', param: AccessParam.patient, system: null, code: 'p1', text: null } as never,
      { kind: 'token', param: 'action', system: null, code: 'R', text: null } as never,
    ]);
    expect(Object.keys(values)).toEqual(['action']);
  });
});
