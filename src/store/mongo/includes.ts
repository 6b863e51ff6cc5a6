import type { IncludeSpec, SearchPlan } from '../../fhir/search/plan';
import { includeRounds } from '../include-rounds';
import type { CurrentDoc } from './documents';
import { and, type Filter } from './filter';
import { compileChecks, referenceTo, type SubqueryResolver } from './search-compile';
import type { QueryRunner } from './runner';

/**
 * `_include` / `_revinclude` over the current-resources collection; the
 * rounds and the cut are the shared ones (store/include-rounds.ts).
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export async function findIncludes(
  runner: QueryRunner,
  plan: SearchPlan,
  matches: readonly CurrentDoc[],
  resolver: SubqueryResolver,
): Promise<{ docs: CurrentDoc[]; truncated: boolean }> {
  const wrap = (doc: CurrentDoc) => ({ ref: doc._id, doc });
  const visible = plan.includeWhere && plan.includeWhere.length > 0 ? await compileChecks(plan.includeWhere, resolver) : {};
  const { found, truncated } = await includeRounds(plan, matches.map(wrap), async (spec, reverse, frontier, limit) => {
    const from = frontier.map((f) => f.doc);
    return (reverse ? await revinclude(runner, spec, from, limit, visible) : await include(runner, spec, from, limit, visible)).map(wrap);
  });
  return { docs: found.map((f) => f.doc), truncated };
}

/** Current resources the `param` references of `from` (of the spec's source type) point at. */
async function include(runner: QueryRunner, spec: IncludeSpec, from: readonly CurrentDoc[], limit: number, visible: Filter): Promise<CurrentDoc[]> {
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
  return runner.find(and([{ _id: { $in: [...targets] }, deleted: { $eq: false } }, visible]), { sort: { _id: 1 }, limit });
}

/** Current resources of the spec's source type whose `param` references point at `from`. */
async function revinclude(runner: QueryRunner, spec: IncludeSpec, from: readonly CurrentDoc[], limit: number, visible: Filter): Promise<CurrentDoc[]> {
  const refs = from.filter((d) => spec.targetType === undefined || d.type === spec.targetType).map((d) => d._id);
  if (refs.length === 0) {
    return [];
  }
  const filter = and([{ type: { $eq: spec.sourceType }, deleted: { $eq: false }, ...referenceTo(spec.param, refs) }, visible]);
  return runner.find(filter, { sort: { _id: 1 }, limit });
}
