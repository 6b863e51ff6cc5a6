import { clinicalInstant, condition, diagnosticReport, documentReference, observation, OBSERVATION_CODES } from './clinical';
import { BenchError } from './cli';
import { frenchPatient, seededRandom } from './data';
import { createResource, runPool } from './http';

/**
 * The search data set: per patient 1 Patient, 12 Observations, 3 Conditions,
 * 2 DiagnosticReports (4 results each) and 2 DocumentReferences = 20
 * resources, loaded through the HTTP API (POST, so validation and indexing
 * are those of production). What was stored is kept here so that search
 * answers can be checked against it.
 */
export const RESOURCES_PER_PATIENT = 20;
const OBSERVATIONS_PER_PATIENT = 12;
const CONDITIONS_PER_PATIENT = 3;
const REPORTS_PER_PATIENT = 2;
const RESULTS_PER_REPORT = 4;
const DOCUMENTS_PER_PATIENT = 2;

export interface StoredPatient {
  id: string;
  ins: string;
  family: string;
}
export interface StoredObservation {
  id: string;
  patient: number;
  /** Index in OBSERVATION_CODES. */
  code: number;
  /** YYYY-MM-DD (Paris and UTC agree, see clinicalInstant). */
  day: string;
}
export interface StoredReport {
  id: string;
  patient: number;
  results: string[];
}

/** What the server holds after {@link loadDataSet}. */
export interface DataSet {
  patients: StoredPatient[];
  observations: StoredObservation[];
  reports: StoredReport[];
  /** Resources stored, per type. */
  counts: Record<string, number>;
  total: number;
  loadSeconds: number;
}

/** Serials of INS values used by the data set; the create workload starts above. */
export const DATASET_SERIAL_BASE = 1;

/**
 * Loads about `resources` resources (rounded up to whole patients) with
 * `concurrency` parallel POSTs: Patients first, then what references them,
 * then the DiagnosticReports that reference Observations.
 */
export async function loadDataSet(base: string, resources: number, concurrency: number): Promise<DataSet> {
  const patientCount = Math.ceil(resources / RESOURCES_PER_PATIENT);
  if (patientCount >= 500_000) {
    // INS serials of the data set must stay below the read/update/create pools' (see workloads.ts).
    throw new BenchError('--resources must stay below 10,000,000 (500,000 patients)');
  }
  const r = seededRandom(20240101);
  const started = Date.now();
  const counts: Record<string, number> = {};
  const count = (type: string) => (counts[type] = (counts[type] ?? 0) + 1);

  const patients: StoredPatient[] = new Array(patientCount);
  await runPool('Patient', patientCount, concurrency, async (i) => {
    const spec = frenchPatient(r, DATASET_SERIAL_BASE + i);
    const id = await createResource(base, spec.body);
    patients[i] = { id, ins: spec.ins, family: spec.family };
    count('Patient');
  });

  const perPatient = OBSERVATIONS_PER_PATIENT + CONDITIONS_PER_PATIENT + DOCUMENTS_PER_PATIENT;
  const observations: StoredObservation[] = new Array(patientCount * OBSERVATIONS_PER_PATIENT);
  await runPool('Observation, Condition, DocumentReference', patientCount * perPatient, concurrency, async (k) => {
    const p = Math.floor(k / perPatient);
    const j = k % perPatient;
    const pid = (patients[p] as StoredPatient).id;
    if (j < OBSERVATIONS_PER_PATIENT) {
      const code = Math.floor(r() * OBSERVATION_CODES.length);
      const when = clinicalInstant(r);
      const id = await createResource(base, observation(r, pid, code, when.iso));
      observations[p * OBSERVATIONS_PER_PATIENT + j] = { id, patient: p, code, day: when.day };
      count('Observation');
    } else if (j < OBSERVATIONS_PER_PATIENT + CONDITIONS_PER_PATIENT) {
      await createResource(base, condition(r, pid));
      count('Condition');
    } else {
      await createResource(base, documentReference(r, pid));
      count('DocumentReference');
    }
  });

  const reports: StoredReport[] = new Array(patientCount * REPORTS_PER_PATIENT);
  await runPool('DiagnosticReport', patientCount * REPORTS_PER_PATIENT, concurrency, async (k) => {
    const p = Math.floor(k / REPORTS_PER_PATIENT);
    const first = p * OBSERVATIONS_PER_PATIENT + (k % REPORTS_PER_PATIENT) * RESULTS_PER_REPORT;
    // Each report gets its own Observations, so an _include answer has a known size.
    const results = observations.slice(first, first + RESULTS_PER_REPORT).map((o) => o.id);
    const id = await createResource(base, diagnosticReport(r, (patients[p] as StoredPatient).id, results));
    reports[k] = { id, patient: p, results };
    count('DiagnosticReport');
  });

  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { patients, observations, reports, counts, total, loadSeconds: (Date.now() - started) / 1000 };
}
