import { between, pick } from './data';

/**
 * Clinical resources of a French DMP for the search data set: lab and vital
 * sign Observations (LOINC, UCUM), Conditions (CIM-10), lab
 * DiagnosticReports pointing at Observations, and DocumentReferences with a
 * small inline text.
 */

export const LOINC = 'http://loinc.org';

/** [LOINC code, display, UCUM unit, low, high, category] */
export const OBSERVATION_CODES = [
  ['2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'g/L', 0.7, 1.6, 'laboratory'],
  ['718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 10, 17, 'laboratory'],
  ['2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/L', 5, 14, 'laboratory'],
  ['2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'g/L', 1.4, 2.8, 'laboratory'],
  ['4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 4.5, 9.5, 'laboratory'],
  ['6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*9/L', 3.5, 11, 'laboratory'],
  ['777-3', 'Platelets [#/volume] in Blood by Automated count', '10*9/L', 140, 420, 'laboratory'],
  ['2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 'mmol/L', 132, 146, 'laboratory'],
  ['8480-6', 'Systolic blood pressure', 'mm[Hg]', 100, 170, 'vital-signs'],
  ['8462-4', 'Diastolic blood pressure', 'mm[Hg]', 60, 100, 'vital-signs'],
  ['29463-7', 'Body weight', 'kg', 45, 120, 'vital-signs'],
  ['8867-4', 'Heart rate', '/min', 50, 110, 'vital-signs'],
] as const;

const CONDITIONS = [
  ['E11.9', 'Diabète sucré de type 2, sans complication'],
  ['I10', 'Hypertension essentielle (primitive)'],
  ['J45.9', 'Asthme, sans précision'],
  ['E78.0', 'Hypercholestérolémie essentielle'],
  ['M54.5', 'Lombalgie basse'],
  ['F32.9', 'Épisode dépressif, sans précision'],
  ['K21.9', 'Reflux gastro-œsophagien sans œsophagite'],
  ['N18.3', 'Maladie rénale chronique, stade 3'],
] as const;

const REPORT_CODES = [
  ['24323-8', 'Comprehensive metabolic 2000 panel - Serum or Plasma'],
  ['58410-2', 'CBC panel - Blood by Automated count'],
  ['57698-3', 'Lipid panel with direct LDL - Serum or Plasma'],
] as const;

const DOCUMENT_TYPES = [
  ['11488-4', 'Consult note', 'Compte rendu de consultation'],
  ['34133-9', 'Summary of episode note', 'Synthèse médicale'],
  ['18842-5', 'Discharge summary', 'Lettre de liaison à la sortie'],
  ['11502-2', 'Laboratory report', 'Compte rendu d’examens biologiques'],
] as const;

const LABS = ['Laboratoire Cerballiance Lyon', 'Biogroup Strasbourg', 'Laboratoire Eurofins Biomnis', 'Synlab Provence'];

/** First and last day (UTC) of the observation dates: two years, so a month holds about 1/24 of them. */
export const DATE_START = Date.UTC(2023, 0, 1);
export const DATE_DAYS = 731;

/**
 * An instant on a working day hour in Paris time (+01:00), between 08:00 and
 * 17:59, so day boundaries are the same in UTC and in Paris and the expected
 * matches of a date search do not depend on the server's time zone choice.
 */
export function clinicalInstant(r: () => number): { iso: string; day: string } {
  const dayMs = DATE_START + between(r, 0, DATE_DAYS - 1) * 86_400_000;
  const day = new Date(dayMs).toISOString().slice(0, 10);
  const hh = String(between(r, 8, 17)).padStart(2, '0');
  const mi = String(between(r, 0, 59)).padStart(2, '0');
  return { iso: `${day}T${hh}:${mi}:00+01:00`, day };
}

/** A lab or vital sign Observation for `patientId` with the code at `codeIndex`. */
export function observation(r: () => number, patientId: string, codeIndex: number, iso: string): Record<string, unknown> {
  const [code, display, unit, low, high, category] = OBSERVATION_CODES[codeIndex] as (typeof OBSERVATION_CODES)[number];
  const value = Math.round((low + r() * (high - low)) * 100) / 100;
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
    code: { coding: [{ system: LOINC, code, display }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: iso,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}

/** A confirmed, active Condition coded in CIM-10. */
export function condition(r: () => number, patientId: string): Record<string, unknown> {
  const [code, display] = pick(r, CONDITIONS);
  const onset = clinicalInstant(r);
  return {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code, display }], text: display },
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: onset.day,
    recordedDate: onset.iso,
  };
}

/** A final lab DiagnosticReport whose `result` lists the given Observations. */
export function diagnosticReport(r: () => number, patientId: string, observationIds: string[]): Record<string, unknown> {
  const [code, display] = pick(r, REPORT_CODES);
  const when = clinicalInstant(r);
  return {
    resourceType: 'DiagnosticReport',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }] }],
    code: { coding: [{ system: LOINC, code, display }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: when.iso,
    issued: when.iso,
    performer: [{ display: pick(r, LABS) }],
    result: observationIds.map((id) => ({ reference: `Observation/${id}` })),
    conclusion: 'Résultats dans les valeurs de référence, à contrôler dans six mois.',
  };
}

/** A current DocumentReference with a short inline French text. */
export function documentReference(r: () => number, patientId: string): Record<string, unknown> {
  const [code, display, title] = pick(r, DOCUMENT_TYPES);
  const when = clinicalInstant(r);
  const text = `${title} du ${when.day}. Patient vu en consultation ; examen clinique sans particularité. Traitement poursuivi à l’identique.`;
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: LOINC, code, display }] },
    subject: { reference: `Patient/${patientId}` },
    date: when.iso.replace('+01:00', '.000+01:00'),
    description: title,
    content: [{ attachment: { contentType: 'text/plain', language: 'fr-FR', data: Buffer.from(text, 'utf8').toString('base64'), title } }],
  };
}
