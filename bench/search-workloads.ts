import { LOINC, OBSERVATION_CODES } from './clinical';
import { FAMILY_NAMES, INS_NIR, normalize, seededRandom } from './data';
import type { DataSet } from './dataset';
import type { Scenario } from './measure';
import type { WorkloadName } from './cli';

/**
 * The search workloads over the loaded data set. Each one cycles through a
 * list of varied queries that all have matches, and knows what each query
 * must return, so {@link verifySearches} can check a sample before the
 * measurement (timing a query that finds nothing would be meaningless).
 */

/** Page size the server is started with (SEARCH_DEFAULT_COUNT), to know how many matches a page holds. */
export const PAGE_SIZE = 20;
const QUERIES_PER_WORKLOAD = 2000;

/** What a query must return: the exact match ids when they fit a page, else how many match in total. */
export interface Expected {
  matchIds?: string[];
  includeIds?: string[];
  matchCount: number;
  /** Checks one returned match (e.g. its family starts with the prefix). */
  accept?: (resource: Record<string, unknown>) => boolean;
}

/** A search workload: relative queries (after /fhir/) with their expected answers. */
export interface SearchWorkload {
  name: WorkloadName;
  description: string;
  queries: string[];
  expected: Expected[];
}

const enc = encodeURIComponent;

export function tokenSearch(ds: DataSet, r: () => number): SearchWorkload {
  const byPatientCode = new Map<string, string[]>();
  for (const o of ds.observations) {
    const key = `${o.patient}:${o.code}`;
    byPatientCode.set(key, [...(byPatientCode.get(key) ?? []), o.id]);
  }
  const queries: string[] = [];
  const expected: Expected[] = [];
  for (let i = 0; i < QUERIES_PER_WORKLOAD; i++) {
    const o = ds.observations[Math.floor(r() * ds.observations.length)]!;
    const code = OBSERVATION_CODES[o.code]![0];
    queries.push(`Observation?patient=Patient/${ds.patients[o.patient]!.id}&code=${enc(`${LOINC}|${code}`)}`);
    const ids = byPatientCode.get(`${o.patient}:${o.code}`)!;
    expected.push({ matchIds: ids, matchCount: ids.length });
  }
  return { name: 'search-token', description: 'Observation?patient=Patient/X&code=http://loinc.org|Y (X has Y)', queries, expected };
}

function identifierSearch(ds: DataSet, r: () => number): SearchWorkload {
  const queries: string[] = [];
  const expected: Expected[] = [];
  for (let i = 0; i < QUERIES_PER_WORKLOAD; i++) {
    const p = ds.patients[Math.floor(r() * ds.patients.length)]!;
    queries.push(`Patient?identifier=${enc(`${INS_NIR}|${p.ins}`)}`);
    expected.push({ matchIds: [p.id], matchCount: 1 });
  }
  return { name: 'search-identifier', description: `Patient?identifier=${INS_NIR}|N (one match)`, queries, expected };
}

function familySearch(ds: DataSet): SearchWorkload {
  const prefixes = [...new Set(FAMILY_NAMES.map((f) => f.slice(0, 3)))];
  const usable = prefixes
    .map((prefix) => {
      const norm = normalize(prefix);
      const ids = ds.patients.filter((p) => normalize(p.family).startsWith(norm)).map((p) => p.id);
      return { prefix, norm, ids };
    })
    .filter((x) => x.ids.length > 0);
  const queries: string[] = [];
  const expected: Expected[] = [];
  for (let i = 0; i < QUERIES_PER_WORKLOAD; i++) {
    const { prefix, norm, ids } = usable[i % usable.length]!;
    queries.push(`Patient?family=${enc(prefix)}`);
    expected.push({
      matchIds: ids.length <= PAGE_SIZE ? ids : undefined,
      matchCount: ids.length,
      accept: (res) => ((res.name as Array<{ family?: string }>) ?? []).some((n) => normalize(n.family ?? '').startsWith(norm)),
    });
  }
  return { name: 'search-family', description: `Patient?family=Dup style: ${usable.length} three-letter prefixes (some accented)`, queries, expected };
}

function dateSearch(ds: DataSet): SearchWorkload {
  const months: Array<{ ge: string; lt: string; count: number }> = [];
  for (let m = 0; m < 24; m++) {
    const ge = new Date(Date.UTC(2023, m, 1)).toISOString().slice(0, 10);
    const lt = new Date(Date.UTC(2023, m + 1, 1)).toISOString().slice(0, 10);
    const count = ds.observations.filter((o) => o.day >= ge && o.day < lt).length;
    if (count > 0) months.push({ ge, lt, count });
  }
  const queries: string[] = [];
  const expected: Expected[] = [];
  for (let i = 0; i < QUERIES_PER_WORKLOAD; i++) {
    const { ge, lt, count } = months[i % months.length]!;
    queries.push(`Observation?date=ge${ge}&date=lt${lt}`);
    expected.push({
      matchCount: count,
      accept: (res) => {
        const day = String(res.effectiveDateTime ?? '').slice(0, 10);
        return day >= ge && day < lt;
      },
    });
  }
  const avg = Math.round(months.reduce((a, m) => a + m.count, 0) / Math.max(1, months.length));
  return { name: 'search-date', description: `Observation?date=geYYYY-MM-01&date=lt(next month): ~${avg} matches, first page of ${PAGE_SIZE}`, queries, expected };
}

export function includeSearch(ds: DataSet, r: () => number): SearchWorkload {
  const byPatient = new Map<number, typeof ds.reports>();
  for (const rep of ds.reports) byPatient.set(rep.patient, [...(byPatient.get(rep.patient) ?? []), rep]);
  const queries: string[] = [];
  const expected: Expected[] = [];
  for (let i = 0; i < QUERIES_PER_WORKLOAD; i++) {
    const p = Math.floor(r() * ds.patients.length);
    const reports = byPatient.get(p) ?? [];
    queries.push(`DiagnosticReport?patient=${ds.patients[p]!.id}&_include=DiagnosticReport:result`);
    expected.push({ matchIds: reports.map((x) => x.id), includeIds: reports.flatMap((x) => x.results), matchCount: reports.length });
  }
  return { name: 'search-include', description: 'DiagnosticReport?patient=X&_include=DiagnosticReport:result (2 reports + 8 observations)', queries, expected };
}

/** Builds the requested search workloads over the data set. */
export function searchWorkloads(ds: DataSet, names: WorkloadName[]): SearchWorkload[] {
  const r = seededRandom(42);
  const all: Record<string, () => SearchWorkload> = {
    'search-token': () => tokenSearch(ds, r),
    'search-identifier': () => identifierSearch(ds, r),
    'search-family': () => familySearch(ds),
    'search-date': () => dateSearch(ds),
    'search-include': () => includeSearch(ds, r),
  };
  return names.filter((n) => n in all).map((n) => (all[n] as () => SearchWorkload)());
}

/** The autocannon scenario of a search workload: GET each query in turn. */
export function searchScenario(w: SearchWorkload): Scenario {
  let i = 0;
  return {
    name: w.name,
    description: w.description,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: `/fhir/${w.queries[i++ % w.queries.length]}` }) }],
  };
}
