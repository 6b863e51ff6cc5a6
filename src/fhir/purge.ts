import type { Patient, Resource } from '@medplum/fhirtypes';
import { AccessParam } from '../access/codes';
import { loadDefinitions } from './definitions';
import { patientChain } from '../audit/codes';
import { historyKey, type ResourceStore, type VersionRecord } from '../store/port';
import { attachmentBinaries } from '../access/binary';
import { patientsInJson } from '../access/facets';
import { contentRefOf } from './binary/content-ref';
import { closedAt } from './record-life';
import type { Condition, SearchPlan } from './search/plan';

/** DMP-RULES.md § 1: the data of a closed DMP are kept 10 years after closure. */
export const RETENTION_YEARS = 10;

/** The instant before which a closure makes a DMP purgeable (`now` minus the retention, in calendar years). */
export function purgeCutoff(nowMs: number, years = RETENTION_YEARS): number {
  const d = new Date(nowMs);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.getTime();
}

/** Whether a DMP may be purged: closed, with a closure date strictly before the cutoff. Never an open DMP. */
export function isPurgeable(patient: Patient, cutoffMs: number): boolean {
  const at = closedAt(patient);
  return at !== undefined && Date.parse(at) < cutoffMs;
}

/** One DMP the purge found: the Patient and every resource in that DMP. */
export interface PurgeCandidate {
  patientId: string;
  closedAt: string;
  resources: { type: string; id: string }[];
}

const MAX_ROWS = 100_000;
/** Versions read per history page while the purge scans the store. */
const HISTORY_PAGE = 1000;

/**
 * The DMPs closed before the cutoff, with their resources: every current
 * resource whose access entries put it in that DMP, plus the Patient; every
 * resource of which any version (a deleted one's included: its tombstone
 * has no index entry) references the patient; and the Binaries the DMP's
 * documents point to as this server's `Binary/id` (their content goes with them). Reads the store
 * directly: the purge is an operator command, not a request.
 */
export async function findPurgeable(store: ResourceStore, cutoffMs: number, baseUrl: string): Promise<PurgeCandidate[]> {
  const out: PurgeCandidate[] = [];
  const closed = await store.search(plan(['Patient'], [{ kind: 'entry', entryKind: 'token', param: 'active', predicate: [[{ field: 'code', op: 'eq', value: 'false' }]] }]));
  for (const v of closed.matches) {
    const patient = JSON.parse(v.json as string) as Patient;
    if (!isPurgeable(patient, cutoffMs)) continue;
    const inDmp = await store.search(
      plan([...loadDefinitions().resourceTypes], [
        { kind: 'entry', entryKind: 'reference', param: AccessParam.patient, predicate: [[{ field: 'ref', op: 'eq', value: `Patient/${v.id}` }]] },
      ]),
    );
    const resources = inDmp.matches.map((r) => ({ type: r.type, id: r.id }));
    if (!resources.some((r) => r.type === 'Patient' && r.id === v.id)) resources.push({ type: 'Patient', id: v.id });
    out.push({ patientId: v.id, closedAt: closedAt(patient) as string, resources });
  }
  if (out.length > 0) await addFromHistory(store, out, baseUrl);
  return out;
}

/**
 * One pass over every version in the store: a version naming a purged
 * patient puts its resource in that DMP (deleted resources, earlier
 * versions), and a document's attachments put their Binaries there.
 */
async function addFromHistory(store: ResourceStore, candidates: PurgeCandidate[], baseUrl: string): Promise<void> {
  const byPatient = new Map(candidates.map((c) => [c.patientId, c]));
  const listed = new Map(candidates.map((c) => [c, new Set(c.resources.map((r) => `${r.type}/${r.id}`))]));
  const add = (c: PurgeCandidate, type: string, id: string) => {
    const seen = listed.get(c) as Set<string>;
    if (seen.has(`${type}/${id}`)) return;
    seen.add(`${type}/${id}`);
    c.resources.push({ type, id });
  };
  await eachVersion(store, {}, (e) => {
    if (e.json === null) return;
    for (const p of patientsInJson(e.type, e.id, e.json)) {
      const c = byPatient.get(p);
      if (!c) continue;
      add(c, e.type, e.id);
      // The same rule as reading a Binary through a document (access/binary.ts): this server's `Binary/id` URLs only.
      if (e.type === 'DocumentReference') for (const b of attachmentBinaries(JSON.parse(e.json) as Resource, baseUrl)) add(c, 'Binary', b);
    }
  });
}

/** Every version matching `scope` (all of them when empty), newest first, page by page. */
async function eachVersion(store: ResourceStore, scope: { type?: string; id?: string }, visit: (v: VersionRecord) => void): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    const page = await store.history({ ...scope, count: HISTORY_PAGE, ...(cursor ? { cursor: { key: cursor, direction: 'older' as const } } : {}) });
    page.entries.forEach(visit);
    const last = page.entries[page.entries.length - 1];
    if (!page.hasOlder || !last) return;
    cursor = historyKey(last);
  }
}

/** An unpaged internal plan (the purge lists everything in one go; a DMP holds at most thousands of resources). */
function plan(types: string[], where: Condition[]): SearchPlan {
  return { types, where, sort: [], count: MAX_ROWS, total: false, include: [], revinclude: [], maxIncludes: 0 };
}

/** Physically removes the resources of the candidates (see ResourceStore.purge). */
export async function applyPurge(store: ResourceStore, candidates: readonly PurgeCandidate[]): Promise<number> {
  let n = 0;
  for (const c of candidates) {
    // The Patient last: an interrupted purge can be run again and finds the DMP still closed.
    const ordered = [...c.resources.filter((r) => r.type !== 'Patient'), ...c.resources.filter((r) => r.type === 'Patient')];
    // Its access history goes with the DMP (kept as long as the DMP is: DMP-RULES.md § 1, § 8).
    await store.purgeChain(patientChain(c.patientId));
    for (const r of ordered) {
      // A Binary's bytes are outside its versions: every version's content goes first.
      if (r.type === 'Binary') await deleteContents(store, r.id);
      await store.purge(r.type, r.id);
      n++;
    }
  }
  return n;
}

/** The content of every version of a Binary (a version keeps its predecessor's content unless it changed it). */
async function deleteContents(store: ResourceStore, id: string): Promise<void> {
  const refs = new Set<string>();
  await eachVersion(store, { type: 'Binary', id }, (e) => {
    const ref = e.json === null ? undefined : contentRefOf(JSON.parse(e.json) as Resource);
    if (ref) refs.add(ref.id);
  });
  for (const ref of refs) await store.deleteContent(ref);
}
