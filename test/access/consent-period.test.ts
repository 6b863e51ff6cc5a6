import type { Consent } from '@medplum/fhirtypes';
import { consentFacts, consentFactsChangeAt } from '../../src/access/facts';

/** When a Consent's facts change by time alone: the instant caches of facts must not outlive. */
describe('consentFactsChangeAt', () => {
  const consent = (period?: { start?: string; end?: string }): Consent => ({
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ code: 'patient-privacy' }] },
    category: [{ coding: [{ code: '59284-0' }] }],
    patient: { reference: 'Patient/p1' },
    provision: { type: 'permit', ...(period ? { period } : {}) },
  });
  const now = Date.parse('2026-06-01T12:00:00.000Z');
  const noRpps = () => undefined;

  test('no period, or a period wholly past: never', () => {
    expect(consentFactsChangeAt(consent(), now)).toBeUndefined();
    expect(consentFactsChangeAt(consent({ start: '2025-01-01', end: '2026-01-01' }), now)).toBeUndefined();
  });

  test('a running period changes just after its end (the end itself still counts)', () => {
    const c = consent({ start: '2026-01-01', end: '2026-06-01T13:00:00.000Z' });
    const at = consentFactsChangeAt(c, now) as number;
    expect(at).toBe(Date.parse('2026-06-01T13:00:00.000Z') + 1);
    expect(consentFacts(c, noRpps, at - 1)).toBeDefined();
    expect(consentFacts(c, noRpps, at)).toBeUndefined();
  });

  test('a future period changes at its start, the earlier of the two', () => {
    const c = consent({ start: '2026-07-01T00:00:00.000Z', end: '2026-08-01T00:00:00.000Z' });
    const at = consentFactsChangeAt(c, now) as number;
    expect(at).toBe(Date.parse('2026-07-01T00:00:00.000Z'));
    expect(consentFacts(c, noRpps, at - 1)).toBeUndefined();
    expect(consentFacts(c, noRpps, at)).toBeDefined();
  });
});
