import type { Patient } from '@medplum/fhirtypes';
import { AccessParam } from '../access/codes';
import { loadDefinitions } from './definitions';
import { patientChain } from '../audit/codes';
import type { ResourceStore } from '../store/port';
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

/**
 * The DMPs closed before the cutoff, with their resources (every current
 * resource whose access entries put it in that DMP, plus the Patient). Reads
 * the store directly: the purge is an operator command, not a request.
 */
export async function findPurgeable(store: ResourceStore, cutoffMs: number): Promise<PurgeCandidate[]> {
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
  return out;
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
      await store.purge(r.type, r.id);
      n++;
    }
  }
  return n;
}
