/**
 * A deterministic, realistic French data set for the end-to-end search tests:
 * Practitioners (RPPS), Patients (INS, accented and compound names, varied
 * birthDate precision), and per patient Observations, Conditions,
 * DiagnosticReports, DocumentReferences and RiskAssessments. Seeded PRNG only,
 * so a failure always reproduces with the same data; ids are chosen here and
 * the resources are PUT, so references are known before loading.
 * Values are invented (INS and RPPS numbers included).
 */
import type {
  CodeableConcept,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Observation,
  Patient,
  Practitioner,
  Quantity,
  Resource,
  RiskAssessment,
} from '@medplum/fhirtypes';
import request from 'supertest';
import type { Express } from 'express';
import { BASE_URL, FHIR_JSON } from './app';

export const INS = 'urn:oid:1.2.250.1.213.1.4.8';
export const RPPS = 'https://rpps.esante.gouv.fr';
export const IPP = 'https://hopital-exemple.fr/ipp';
export const TAGS = 'https://dmp.example.fr/tags';
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const TRE_A07 = 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
export const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

/** mulberry32: small, fast, and good enough to spread test data. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  digits(n: number): string {
    let s = String(this.int(1, 9));
    while (s.length < n) s += String(this.int(0, 9));
    return s;
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.int(0, 15).toString(16);
    return s;
  }
}

const FAMILIES = [
  'Martin', 'Bernard', 'Dubois', 'Durand', 'Lefèvre', 'Lefebvre', 'Dupont', 'Dupond', 'Dupont-Aignan', 'Moreau',
  'Le Goff', 'Le Gall', 'Saint-Martin', 'Béranger', 'Hérault', 'Noël', 'Château', 'Müller', 'Garçon', 'Fontaine',
  'Rousseau', 'Girard', 'Bonnet', "N'Diaye", 'Petit', 'Roux', 'Laurent', 'Simon', 'Leroy', 'Faure',
];
const GIVENS = [
  'Jean', 'Jean-Baptiste', 'Jean-Pierre', 'Marie', 'Marie-Claire', 'Éloïse', 'Élodie', 'Hélène', 'Zoé', 'Chloé',
  'Noémie', 'François', 'Françoise', 'Jérôme', 'Léa', 'Théo', 'Inès', 'Gaël', 'Anaïs', 'Loïc', 'Cécile', 'Benoît',
  'Agnès', 'Maël', 'Joël', 'Lucas', 'Emma', 'Hugo',
];
/** City and a postal code generator (arrondissements for the three largest). */
const CITIES: readonly [string, (r: Rng) => string][] = [
  ['Paris', (r) => `750${pad(r.int(1, 20))}`],
  ['Lyon', (r) => `6900${r.int(1, 9)}`],
  ['Marseille', (r) => `130${pad(r.int(1, 16))}`],
  ['Saint-Étienne', () => '42000'],
  ['Aix-en-Provence', () => '13090'],
  ['Nîmes', () => '30000'],
  ['Besançon', () => '25000'],
  ['Orléans', () => '45000'],
  ['Lille', () => '59000'],
  ['Saint-Denis', () => '93200'],
];

/** Simple vital signs and lab results: LOINC code, UCUM unit, value range and decimals. */
export const QUANTITY_CODES = [
  { code: '8867-4', display: 'Heart rate', unit: 'beats/minute', ucum: '/min', min: 48, max: 130, dec: 0 },
  { code: '8310-5', display: 'Body temperature', unit: '°C', ucum: 'Cel', min: 35.8, max: 40.2, dec: 1 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg', min: 38, max: 120, dec: 1 },
  { code: '8302-2', display: 'Body height', unit: 'cm', ucum: 'cm', min: 145, max: 198, dec: 0 },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'g/L', ucum: 'g/L', min: 0.6, max: 2.4, dec: 2 },
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', ucum: 'g/dL', min: 9, max: 17.5, dec: 1 },
] as const;
export const BP = { panel: '85354-9', systolic: '8480-6', diastolic: '8462-4' } as const;

export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
/** SNOMED CT code, display, French text, and the CIM-10 (ICD-10) coding some Conditions carry as well. */
export const CONDITION_CODES = [
  ['38341003', 'Hypertensive disorder', 'Hypertension artérielle', 'I10', 'Essential (primary) hypertension'],
  ['44054006', 'Diabetes mellitus type 2', 'Diabète de type 2', 'E11', 'Type 2 diabetes mellitus'],
  ['73211009', 'Diabetes mellitus', 'Diabète sucré', 'E14', 'Unspecified diabetes mellitus'],
  ['195967001', 'Asthma', 'Asthme', 'J45', 'Asthma'],
  ['35489007', 'Depressive disorder', 'Dépression', 'F32', 'Depressive episode'],
  ['13645005', 'Chronic obstructive lung disease', 'BPCO', 'J44', 'Other chronic obstructive pulmonary disease'],
  ['49436004', 'Atrial fibrillation', 'Fibrillation auriculaire', 'I48', 'Atrial fibrillation and flutter'],
  ['414916001', 'Obesity', 'Obésité', 'E66', 'Obesity'],
] as const;
export const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const DOC_TYPES = [
  ['11488-4', 'Consult note'],
  ['11490-0', 'Discharge summary'],
  ['60591-5', 'Patient summary Document'],
] as const;

export interface Dataset {
  practitioners: Practitioner[];
  patients: Patient[];
  observations: Observation[];
  conditions: Condition[];
  reports: DiagnosticReport[];
  documents: DocumentReference[];
  risks: RiskAssessment[];
}

const DAY = 86_400_000;
const T2023 = Date.UTC(2023, 0, 1);
const T2026 = Date.UTC(2026, 0, 1);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An ISO dateTime in a French-looking zone (Z, +01:00 or +02:00), to the second. */
function dateTimeAt(ms: number, offsetH: number): string {
  const d = new Date(ms + offsetH * 3_600_000);
  const local = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return offsetH === 0 ? `${local}Z` : `${local}+${pad(offsetH)}:00`;
}
const round = (v: number, dec: number) => Number(v.toFixed(dec));
const cc = (system: string, code: string, display: string, text?: string): CodeableConcept => ({
  coding: [{ system, code, display }],
  ...(text ? { text } : {}),
});

/** Generates the data set; the same seed and size always give the same resources. */
export function generateDataset(opts: { seed?: number; patients?: number; practitioners?: number } = {}): Dataset {
  const r = new Rng(opts.seed ?? 20240611);
  const used = new Set<string>();
  const newId = (prefix: string) => {
    let id = `${prefix}-${r.hex(10)}`;
    while (used.has(id)) id = `${prefix}-${r.hex(10)}`;
    used.add(id);
    return id;
  };
  const ds: Dataset = { practitioners: [], patients: [], observations: [], conditions: [], reports: [], documents: [], risks: [] };

  for (let i = 0; i < (opts.practitioners ?? 10); i++) {
    ds.practitioners.push({
      resourceType: 'Practitioner',
      id: newId('prat'),
      identifier: [{ system: RPPS, value: `10${r.digits(9)}` }],
      active: true,
      name: [{ family: r.pick(FAMILIES), given: [r.pick(GIVENS)], prefix: ['Dr'] }],
      gender: r.chance(0.5) ? 'female' : 'male',
    });
  }

  for (let i = 0; i < (opts.patients ?? 200); i++) {
    const gender = r.chance(0.04) ? r.pick(['other', 'unknown'] as const) : r.chance(0.5) ? 'female' : 'male';
    const p: Patient = {
      resourceType: 'Patient',
      id: newId('pat'),
      identifier: [{ system: INS, value: `${gender === 'female' ? 2 : 1}${r.digits(14).slice(1)}${r.int(0, 9)}` }],
      name: [{ use: 'official', family: r.pick(FAMILIES), given: r.chance(0.3) ? [r.pick(GIVENS), r.pick(GIVENS)] : [r.pick(GIVENS)] }],
      gender,
    };
    // A second identifier from a small pool, with or without system: `identifier=|code` and `system|code` differ.
    if (r.chance(0.3)) {
      const value = `D${pad(r.int(1, 15), 4)}`;
      p.identifier?.push(r.chance(0.5) ? { system: IPP, value } : { value });
    }
    if (r.chance(0.15)) p.name?.push({ use: 'maiden', family: r.pick(FAMILIES) });
    const birth = Date.UTC(1930, 0, 1) + r.int(0, 90 * 365) * DAY;
    const b = new Date(birth).toISOString();
    const precision = r.next();
    if (precision < 0.72) p.birthDate = b.slice(0, 10);
    else if (precision < 0.84) p.birthDate = b.slice(0, 4);
    else if (precision < 0.92) p.birthDate = b.slice(0, 7);
    if (r.chance(0.85)) {
      const [city, zip] = r.pick(CITIES);
      p.address = [{ use: 'home', line: [`${r.int(1, 120)} rue de la République`], city, postalCode: zip(r), country: 'FR' }];
    }
    if (r.chance(0.4)) {
      p.telecom = [{ system: 'phone', value: `+33 6 ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`, use: 'mobile' }];
      if (r.chance(0.5)) p.telecom.push({ system: 'email', value: `patient${i}@exemple.fr` });
    }
    if (r.chance(0.85)) p.generalPractitioner = [{ reference: `Practitioner/${r.pick(ds.practitioners).id}` }];
    if (r.chance(0.9)) p.active = r.chance(0.9);
    const tags = [];
    if (r.chance(0.15)) tags.push({ system: TAGS, code: 'cohorte-diabete', display: 'Cohorte diabète' });
    if (r.chance(0.1)) tags.push({ system: TAGS, code: 'essai-clinique' });
    if (tags.length > 0) p.meta = { tag: tags };
    ds.patients.push(p);
    clinicalData(r, ds, p, newId);
  }
  return ds;
}

/** The patient's Observations, Conditions, reports, documents and risk assessments. */
function clinicalData(r: Rng, ds: Dataset, p: Patient, newId: (prefix: string) => string): void {
  // Most references are relative; some are absolute on this server, or name the version: all are the same target.
  const refTo = (target: string) => {
    const form = r.next();
    return { reference: form < 0.1 ? `${BASE_URL}/${target}` : form < 0.15 ? `${target}/_history/1` : target };
  };
  const subject = () => refTo(`Patient/${p.id}`);
  const gp = p.generalPractitioner?.[0];
  const mine: Observation[] = [];
  for (let k = r.int(0, 5); k > 0; k--) {
    const at = T2023 + Math.floor(r.next() * (T2026 - T2023));
    const o = { resourceType: 'Observation', id: newId('obs'), status: r.chance(0.9) ? 'final' : 'amended', subject: subject() } as Observation;
    const form = r.next();
    if (form < 0.1) o.effectivePeriod = { start: dateTimeAt(at, 0), end: dateTimeAt(at + r.int(1, 72) * 3_600_000, 0) };
    else if (form < 0.2) o.effectiveDateTime = new Date(at).toISOString().slice(0, 10);
    else o.effectiveDateTime = dateTimeAt(at, r.pick([0, 1, 2]));
    if (r.chance(0.2)) {
      o.code = cc(LOINC, BP.panel, 'Blood pressure panel with all children optional');
      const part = (code: string, display: string, v: number) => ({
        code: cc(LOINC, code, display),
        valueQuantity: { value: v, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
      });
      o.component = [part(BP.systolic, 'Systolic blood pressure', r.int(100, 185)), part(BP.diastolic, 'Diastolic blood pressure', r.int(55, 110))];
    } else {
      const q = r.pick(QUANTITY_CODES);
      o.code = cc(LOINC, q.code, q.display);
      const value = round(q.min + r.next() * (q.max - q.min), q.dec);
      // Some weights carry only a human unit, no UCUM code: `||kg` must still find them.
      const quantity: Quantity = q.code === '29463-7' && r.chance(0.3) ? { value, unit: 'kg' } : { value, unit: q.unit, system: UCUM, code: q.ucum };
      o.valueQuantity = quantity;
    }
    const lab = ['2339-0', '718-7'].includes(o.code.coding?.[0].code as string);
    o.category = [cc(CATEGORY, lab ? 'laboratory' : 'vital-signs', lab ? 'Laboratory' : 'Vital Signs')];
    mine.push(o);
    ds.observations.push(o);
  }
  for (let k = r.int(0, 3); k > 0; k--) {
    const [code, display, text, icd, icdDisplay] = r.pick(CONDITION_CODES);
    const status = r.chance(0.65) ? 'active' : 'resolved';
    const coded = cc(SNOMED, code, display, r.chance(0.7) ? text : undefined);
    // Half also carry the CIM-10 code: a token search matches any coding of the concept.
    if (r.chance(0.5)) coded.coding?.push({ system: ICD10, code: icd, display: icdDisplay });
    ds.conditions.push({
      resourceType: 'Condition',
      id: newId('cond'),
      clinicalStatus: cc(CLINICAL, status, status === 'active' ? 'Active' : 'Resolved'),
      code: coded,
      subject: subject(),
      onsetDateTime: new Date(Date.UTC(2000, 0, 1) + r.int(0, 9000) * DAY).toISOString().slice(0, 10),
    });
  }
  for (let k = mine.length > 0 ? r.int(0, 2) : 0; k > 0; k--) {
    const results = mine.filter(() => r.chance(0.6));
    const at = T2023 + Math.floor(r.next() * (T2026 - T2023));
    ds.reports.push({
      resourceType: 'DiagnosticReport',
      id: newId('dr'),
      status: 'final',
      code: cc(LOINC, '11502-2', 'Laboratory report'),
      subject: subject(),
      effectiveDateTime: dateTimeAt(at, 1),
      issued: new Date(at + DAY).toISOString(),
      ...(results.length > 0 ? { result: results.map((o) => refTo(`Observation/${o.id}`)) } : {}),
      ...(gp ? { performer: [gp] } : {}),
    });
  }
  for (let k = r.int(0, 2); k > 0; k--) {
    const [code, display] = r.pick(DOC_TYPES);
    const d: DocumentReference = {
      resourceType: 'DocumentReference',
      id: newId('doc'),
      status: r.chance(0.8) ? 'current' : 'superseded',
      type: cc(LOINC, code, display),
      subject: subject(),
      date: new Date(T2023 + Math.floor(r.next() * (T2026 - T2023) / 1000) * 1000).toISOString(),
      content: [{ attachment: { contentType: 'application/pdf', url: `https://documents.dmp.test/${r.hex(16)}.pdf`, title: display } }],
    };
    if (r.chance(0.3)) d.securityLabel = [cc(TRE_A07, 'MASQUE_PS', 'Masqué aux professionnels de santé')];
    if (r.chance(0.2)) d.meta = { security: [{ system: CONFIDENTIALITY, code: 'R', display: 'restricted' }] };
    if (gp) d.author = [gp];
    ds.documents.push(d);
  }
  if (r.chance(0.35)) {
    ds.risks.push({
      resourceType: 'RiskAssessment',
      id: newId('risk'),
      status: 'final',
      subject: subject(),
      prediction: [{ outcome: { text: 'Événement cardiovasculaire à 10 ans' }, probabilityDecimal: round(0.01 + r.next() * 0.5, r.chance(0.3) ? 3 : 2) }],
    });
  }
}

/** Every resource, in an order where references point backwards. */
export function allResources(ds: Dataset): Resource[] {
  return [...ds.practitioners, ...ds.patients, ...ds.observations, ...ds.conditions, ...ds.reports, ...ds.documents, ...ds.risks];
}

/**
 * Patients per adapter. On FerretDB (the MongoDB stand-in of CI, SQLite
 * backend) a write costs ~60 ms plus ~1.7 ms per resource already stored
 * (lookups not served by an index there), so loading is quadratic: the
 * MongoDB run gets a small set of the same shape to stay near a minute per
 * test file. Its queries still get exact-set checks; only the "query is
 * discriminating" guard is left to the large set (see expectExactMatches).
 */
export const PATIENTS_PER_ADAPTER = { sqlite: 200, mongo: 12 } as const;

/** Writes at a time: SQLite group-commits concurrent writes; FerretDB is fastest one by one. */
export const PARALLEL_WRITES = { sqlite: 6, mongo: 1 } as const;

/**
 * PUTs every resource (a few requests at a time, as a real client would) and
 * returns each one's server `meta.lastUpdated`, by `Type/id`.
 */
export async function loadDataset(app: Express, ds: Dataset, parallel = 6): Promise<Map<string, string>> {
  const lastUpdated = new Map<string, string>();
  const queue = allResources(ds);
  const worker = async () => {
    for (let res = queue.shift(); res; res = queue.shift()) {
      const put = await request(app).put(`/fhir/${res.resourceType}/${res.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(res));
      if (put.status !== 201) {
        throw new Error(`PUT ${res.resourceType}/${res.id}: ${put.status} ${JSON.stringify(put.body)}`);
      }
      lastUpdated.set(`${res.resourceType}/${res.id}`, put.body.meta.lastUpdated);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return lastUpdated;
}
