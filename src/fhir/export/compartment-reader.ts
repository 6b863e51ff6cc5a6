import type { ResourceStore, VersionRecord } from '../../store/port';
import type { Condition } from '../search/plan';
import { restrictPlan, type Restriction } from '../search/restrict';
import { compartmentConditions, compartmentGroups, pagePlan, sinceCondition, type CompartmentGroup } from './compartment';

/** A position in a compartment: the group, and the last `Type/id` read in it (none: from its start). */
export interface CompartmentPosition {
  group: number;
  after?: string;
}

/** One page of a compartment, and where the next one starts (none: it was the last). */
export interface CompartmentPage {
  matches: VersionRecord[];
  next?: CompartmentPosition;
}

/**
 * Reads one patient's compartment (compartment.ts) through the store's
 * indexed search, restricted by the caller's access inside every query (so
 * counts and pages hold only what the caller may see), in a stable order:
 * group by group, `Type/id` ascending within a group, with keyset
 * positions, so that a page never repeats or skips a resource that existed
 * before, whatever is written between two pages. FhirService builds it
 * after the access decision; it decides nothing itself.
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 */
export class CompartmentReader {
  readonly groups: readonly CompartmentGroup[];
  private readonly where: readonly Condition[][];

  constructor(
    private readonly store: ResourceStore,
    readonly patientId: string,
    opts: { types?: ReadonlySet<string>; sinceMs?: number; restriction?: Restriction },
  ) {
    this.groups = compartmentGroups(opts.types);
    this.where = this.groups.map((g) => [...compartmentConditions(g, patientId), ...sinceCondition(opts.sinceMs)]);
    this.restriction = opts.restriction;
  }

  private readonly restriction?: Restriction;

  /** How many resources each group holds for the caller (`Bundle.total` is their sum). */
  async counts(): Promise<number[]> {
    const out: number[] = [];
    for (const [i, g] of this.groups.entries()) {
      const page = await this.store.search(restrictPlan(pagePlan(g.types, [...this.where[i]], 0, undefined, true), this.restriction));
      out.push(page.total ?? 0);
    }
    return out;
  }

  /**
   * Up to `count` resources from `from`, across groups; `counts` (from
   * {@link counts}) lets empty groups be skipped and tells exactly whether a
   * next page exists.
   */
  async page(from: CompartmentPosition, count: number, counts: readonly number[]): Promise<CompartmentPage> {
    const matches: VersionRecord[] = [];
    let pos: CompartmentPosition | undefined = this.nonEmpty(from, counts);
    while (pos && matches.length < count) {
      const g = this.groups[pos.group];
      const page = await this.store.search(restrictPlan(pagePlan(g.types, [...this.where[pos.group]], count - matches.length, pos.after), this.restriction));
      matches.push(...page.matches);
      pos = page.next ? { group: pos.group, after: page.next.ref } : this.nonEmpty({ group: pos.group + 1 }, counts);
    }
    return { matches, next: pos };
  }

  /**
   * Every resource of one type of the compartment, page by page (each at
   * most `pageSize`), for a streamed export; `filters` (`_typeFilter`) are
   * alternatives: a resource matching any of them is read.
   */
  async *pagesOf(type: string, pageSize: number, filters?: readonly (readonly Condition[])[]): AsyncGenerator<VersionRecord[]> {
    const i = this.groups.findIndex((g) => g.types.includes(type));
    if (i < 0) return;
    const where = [...this.where[i], ...(filters ? [{ kind: 'anyOf' as const, alternatives: filters }] : [])];
    yield* pagesOfPlan(this.store, [type], where, pageSize, this.restriction);
  }

  /** The first position at or after `from` in a group that holds anything. */
  private nonEmpty(from: CompartmentPosition, counts: readonly number[]): CompartmentPosition | undefined {
    for (let g = from.group; g < this.groups.length; g++) {
      if ((counts[g] ?? 0) > 0) return g === from.group ? from : { group: g };
    }
    return undefined;
  }
}

/** Every current resource of `types` meeting `where` (and the restriction), page by page in `Type/id` order. */
export async function* pagesOfPlan(
  store: ResourceStore,
  types: readonly string[],
  where: readonly Condition[],
  pageSize: number,
  restriction: Restriction | undefined,
): AsyncGenerator<VersionRecord[]> {
  let after: string | undefined;
  for (;;) {
    const page = await store.search(restrictPlan(pagePlan(types, [...where], pageSize, after), restriction));
    if (page.matches.length > 0) yield page.matches;
    if (!page.next) return;
    after = page.next.ref;
  }
}

/** Current resources of one type among `ids` that the restriction lets through (directory resources referenced). */
export async function readRestricted(store: ResourceStore, type: string, ids: readonly string[], sinceMs: number | undefined, restriction: Restriction | undefined): Promise<VersionRecord[]> {
  if (ids.length === 0) return [];
  const where: Condition[] = [{ kind: 'id', ids: [...ids] }, ...sinceCondition(sinceMs)];
  return (await store.search(restrictPlan(pagePlan([type], where, ids.length), restriction))).matches;
}
