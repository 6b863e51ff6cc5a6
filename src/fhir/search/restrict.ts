import type { Condition, SearchPlan } from './plan';

/**
 * A restriction to add to a search: `top` applies to the resources the
 * search returns, `inner` to the resources that chains and `_has` look at,
 * so that no criterion can reveal what the caller may not see. Both are in
 * disjunctive normal form (see AnyOfCondition); undefined adds nothing.
 */
export interface Restriction {
  top?: readonly (readonly Condition[])[];
  inner?: readonly (readonly Condition[])[];
  /** What `_include` / `_revinclude` may carry (SearchPlan.includeWhere). */
  includes?: readonly (readonly Condition[])[];
}

/** The plan with the restriction added (the plan itself is not changed). */
export function restrictPlan(plan: SearchPlan, r: Restriction | undefined): SearchPlan {
  if (!r) return plan;
  const includes = plan.include.length + plan.revinclude.length > 0;
  if (includes && !r.includes) {
    // Never include without a restriction when the search is restricted: the caller gave none for includes.
    throw new Error('A restricted search with includes needs an include restriction');
  }
  return {
    ...plan,
    where: restrictConditions(plan.where, r.top, r.inner),
    ...(includes && r.includes ? { includeWhere: [{ kind: 'anyOf' as const, alternatives: r.includes }] } : {}),
  };
}

/** Conditions with `top` added at this level and `inner` inside every chain and `_has`, at any depth. */
export function restrictConditions(
  where: readonly Condition[],
  top: Restriction['top'],
  inner: Restriction['inner'],
): Condition[] {
  const out = where.map((c) => restrictNested(c, inner));
  if (top) out.push({ kind: 'anyOf', alternatives: top });
  return out;
}

function restrictNested(c: Condition, inner: Restriction['inner']): Condition {
  switch (c.kind) {
    case 'chain':
    case 'has':
      return { ...c, where: restrictConditions(c.where, inner, inner) };
    case 'anyOf':
      return { ...c, alternatives: c.alternatives.map((alt) => alt.map((x) => restrictNested(x, inner))) };
    default:
      return c;
  }
}
