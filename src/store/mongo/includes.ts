import type { IncludeSpec, SearchPlan } from '../../fhir/search/plan';
import type { CurrentDoc } from './documents';
import { referenceTo } from './search-compile';
import type { QueryRunner } from './runner';

/**
 * `_include` / `_revinclude` over the current-resources collection, with the
 * same rounds and cut as the SQLite adapter (search-include.ts there): round
 * one applies every spec to the page's matches; each further round applies
 * the `:iterate` specs to what the previous round added, until nothing new
 * comes. Each round's new resources are taken in `Type/id` order, so when
 * `maxIncludes` cuts, the kept set is the same on every adapter.
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export async function findIncludes(
  runner: QueryRunner,
  plan: SearchPlan,
  matches: readonly CurrentDoc[],
): Promise<{ docs: CurrentDoc[]; truncated: boolean }> {
  const seen = new Set(matches.map((m) => m._id));
  const found: CurrentDoc[] = [];
  let frontier: readonly CurrentDoc[] = matches;
  let first = true;
  let truncated = false;
  const specs = [...plan.include.map((s) => ({ s, rev: false })), ...plan.revinclude.map((s) => ({ s, rev: true }))];
  while (frontier.length > 0 && !truncated) {
    const active = first ? specs : specs.filter((x) => x.s.iterate);
    if (active.length === 0) {
      break;
    }
    const remaining = plan.maxIncludes - found.length;
    // Each query is in Type/id order; asking for the already-seen count more
    // still yields `remaining + 1` new ones when they exist, so whatever a
    // query leaves out sorts after everything the cut keeps.
    const limit = remaining + 1 + seen.size;
    const fresh = new Map<string, CurrentDoc>();
    for (const { s, rev } of active) {
      const docs = rev ? await revinclude(runner, s, frontier, limit) : await include(runner, s, frontier, limit);
      for (const d of docs) {
        if (!seen.has(d._id)) {
          fresh.set(d._id, d);
        }
      }
    }
    let next = [...fresh.values()].sort(byRef);
    if (next.length > remaining) {
      truncated = true;
      next = next.slice(0, remaining);
    }
    for (const d of next) {
      seen.add(d._id);
      found.push(d);
    }
    frontier = next;
    first = false;
  }
  return { docs: found.sort(byRef), truncated };
}

/** Current resources the `param` references of `from` (of the spec's source type) point at. */
async function include(runner: QueryRunner, spec: IncludeSpec, from: readonly CurrentDoc[], limit: number): Promise<CurrentDoc[]> {
  const targets = new Set<string>();
  for (const doc of from) {
    if (doc.type !== spec.sourceType) {
      continue;
    }
    for (const e of doc.idx ?? []) {
      // Only local references (type and id set) point at resources of this server.
      if (e.p === spec.param && e.k === 'reference' && typeof e.type === 'string' && typeof e.id === 'string') {
        if (spec.targetType === undefined || e.type === spec.targetType) {
          targets.add(`${e.type}/${e.id}`);
        }
      }
    }
  }
  if (targets.size === 0) {
    return [];
  }
  return runner.find({ _id: { $in: [...targets] }, deleted: { $eq: false } }, { sort: { _id: 1 }, limit });
}

/** Current resources of the spec's source type whose `param` references point at `from`. */
async function revinclude(runner: QueryRunner, spec: IncludeSpec, from: readonly CurrentDoc[], limit: number): Promise<CurrentDoc[]> {
  const refs = from.filter((d) => spec.targetType === undefined || d.type === spec.targetType).map((d) => d._id);
  if (refs.length === 0) {
    return [];
  }
  const filter = { type: { $eq: spec.sourceType }, deleted: { $eq: false }, ...referenceTo(spec.param, refs) };
  return runner.find(filter, { sort: { _id: 1 }, limit });
}

const byRef = (a: CurrentDoc, b: CurrentDoc): number => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
