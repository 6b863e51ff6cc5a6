import type { IncludeSpec, SearchPlan } from '../fhir/search/plan';

/** What the rounds need to know of a found resource. */
export interface Includable {
  /** `Type/id`: identity, and the order in which a cut keeps resources. */
  ref: string;
}

/**
 * One adapter query: the current resources that `spec` reaches from
 * `frontier` (targets for `_include`, sources for `_revinclude`), in `Type/id`
 * order, at most `limit` of them.
 */
export type IncludeStep<R extends Includable> = (spec: IncludeSpec, reverse: boolean, frontier: readonly R[], limit: number) => Promise<R[]> | R[];

const byRef = (a: Includable, b: Includable) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);

/**
 * `_include` / `_revinclude` rounds, shared by every adapter so that they
 * include exactly the same resources: round one applies every spec to the
 * page's matches; each further round applies the `:iterate` specs to what the
 * previous round added, until nothing new comes. Each round's new resources
 * are taken in `Type/id` order, so when `maxIncludes` cuts, the kept set is
 * the same everywhere. Returns the included resources in `Type/id` order.
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export async function includeRounds<R extends Includable>(
  plan: SearchPlan,
  matches: readonly R[],
  step: IncludeStep<R>,
): Promise<{ found: R[]; truncated: boolean }> {
  const seen = new Set(matches.map((m) => m.ref));
  const found: R[] = [];
  let frontier: readonly R[] = matches;
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
    const fresh = new Map<string, R>();
    for (const { s, rev } of active) {
      for (const r of await step(s, rev, frontier, limit)) {
        if (!seen.has(r.ref)) {
          fresh.set(r.ref, r);
        }
      }
    }
    let next = [...fresh.values()].sort(byRef);
    if (next.length > remaining) {
      truncated = true;
      next = next.slice(0, remaining);
    }
    for (const r of next) {
      seen.add(r.ref);
      found.push(r);
    }
    frontier = next;
    first = false;
  }
  return { found: found.sort(byRef), truncated };
}
