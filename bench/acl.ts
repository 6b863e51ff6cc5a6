import { pharmacistConsent, type BenchAuth } from './auth';
import type { WorkloadName } from './cli';
import type { DataSet } from './dataset';
import { createResource, getJson, runPool, useAuthorization } from './http';
import type { Scenario } from './measure';
import { seededRandom } from './data';
import { includeSearch, searchScenario, tokenSearch, type SearchWorkload } from './search-workloads';
import { verifySearches } from './verify';

/**
 * The access-control workloads (issue #6): reads and searches by an
 * authorised pharmacist, so that every request is authenticated, its facts
 * looked up, and its query restricted by the DMP rules and the profession
 * matrix; the same requests are then sent to the baseline server with
 * authentication and access control off, and the two are compared.
 */
export interface AclWorkload {
  name: WorkloadName;
  scenario(authorization: string | undefined): Scenario;
}

/** The pharmacist records a permit for himself on every bench patient (one Consent each). */
export async function authorisePharmacist(base: string, ds: DataSet, auth: BenchAuth, concurrency: number): Promise<void> {
  useAuthorization(auth.pharmacist);
  try {
    await runPool('Consent (pharmacist)', ds.patients.length, concurrency, async (i) => {
      await createResource(base, pharmacistConsent(ds.patients[i]!.id));
    });
  } finally {
    useAuthorization(auth.gp);
  }
}

/** Builds the selected workloads and checks, as the pharmacist, that each answers what the data set holds. */
export async function aclWorkloads(base: string, ds: DataSet, names: WorkloadName[], auth: BenchAuth): Promise<AclWorkload[]> {
  const r = seededRandom(7);
  const searches: Partial<Record<WorkloadName, SearchWorkload>> = {
    'acl-search': { ...tokenSearch(ds, r), name: 'acl-search' },
    'acl-include': { ...includeSearch(ds, r), name: 'acl-include' },
  };
  const out: AclWorkload[] = [];
  useAuthorization(auth.pharmacist);
  try {
    for (const name of names) {
      const w = searches[name];
      if (w) {
        await verifySearches(base, w);
        out.push({ name, scenario: (a) => ({ ...searchScenario(w), description: `${w.description}, as an authorised pharmacist`, authorization: a }) });
      } else if (name === 'acl-read') {
        const ids = ds.observations.map((o) => o.id);
        for (const id of ids.slice(0, 20)) await getJson(base, `Observation/${id}`);
        out.push({ name, scenario: (a) => readScenario(ids, a) });
      }
    }
  } finally {
    useAuthorization(auth.gp);
  }
  return out;
}

function readScenario(ids: string[], authorization: string | undefined): Scenario {
  let i = 0;
  return {
    name: 'acl-read',
    description: `GET Observation/{id} over ${ids.length} Observations, as an authorised pharmacist (lab results: in his matrix)`,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: `/fhir/Observation/${ids[i++ % ids.length]}` }) }],
    authorization,
  };
}
