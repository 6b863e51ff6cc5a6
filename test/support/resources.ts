import type { Observation, Patient } from '@medplum/fhirtypes';

let insSequence = 0;

/**
 * A valid French patient with an INS-NIR identifier (values are made up).
 * Each call has its own INS: the store allows one Patient per INS (DMP-RULES.md § 1).
 */
export function patient(overrides: Partial<Patient> = {}): Patient {
  insSequence++;
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: `1800175${String(insSequence).padStart(8, '0')}` }],
    name: [{ family: 'Dupont', given: ['Jean', 'Édouard'] }],
    gender: 'male',
    birthDate: '1980-01-02',
    ...overrides,
  };
}

/** A valid vital-sign observation for `patientRef`. */
export function observation(patientRef: string, overrides: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: patientRef },
    effectiveDateTime: '2026-03-04T10:00:00Z',
    valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    ...overrides,
  };
}
