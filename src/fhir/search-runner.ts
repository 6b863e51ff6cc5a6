import type { ResourceStore, VersionRecord } from '../store/port';
import type { SearchPage } from './search/plan';
import { bundleJson, outcomeEntry, pageLinks, type RawEntry } from './bundles';
import type { PageLimits } from './history';
import { issue, outcome } from './outcomes';
import { encodeCursor, parseSearch, type ParsedSearch } from './search/parse';
import { restrictPlan, type Restriction } from './search/restrict';
import { subsetJson, type Subset } from './search/subset';

/** How a searchset is built; `restriction` carries the caller's access (FhirService). */
export interface BundleOptions {
  lenient: boolean;
  path: string;
  baseUrl: string;
  linkParams?: [string, string][];
  /** Added to the plan: the store filters inside its query, so totals, paging and includes stay exact. */
  restriction?: Restriction;
  /** Told of the page the store returned (the audit names what the search returned). */
  observe?: (page: SearchPage) => void;
}

/** Includes beyond this many per page are cut, and the Bundle says so. */
const MAX_INCLUDES = 1000;

/**
 * Runs searches for FhirService: parses the query into a SearchPlan, has the
 * store execute it, and assembles the searchset Bundle. It has no access or
 * audit logic of its own: FhirService calls it from inside `perform`.
 * @see https://hl7.org/fhir/R4/search.html
 */
export class SearchRunner {
  constructor(
    private readonly store: ResourceStore,
    private readonly limits: PageLimits,
  ) {}

  /**
   * At most two current matches of conditional criteria (create / update /
   * patch / delete): enough to tell none, one and several apart.
   * @see https://hl7.org/fhir/R4/http.html#cond-update
   */
  async matches(type: string, criteria: [string, string][], baseUrl: string, restriction?: Restriction, count = 2): Promise<VersionRecord[]> {
    const parsed = this.parse([type], criteria, baseUrl, false);
    const plan = { ...parsed.plan, count, sort: [], cursor: undefined, total: false, include: [], revinclude: [] };
    return (await this.store.search(restrictPlan(plan, restriction))).matches;
  }

  /** The searchset Bundle's JSON. `path` is the search path below the base, e.g. `Patient`. */
  async bundle(
    types: string[],
    params: [string, string][],
    opts: BundleOptions,
  ): Promise<string> {
    const parsed = this.parse(types, params, opts.baseUrl, opts.lenient);
    // Parameters handled before parsing (system search's _type) still belong in the links.
    const selfParams: [string, string][] = [...(opts.linkParams ?? []), ...parsed.selfParams];
    const page = await this.store.search(restrictPlan(parsed.plan, opts.restriction));
    opts.observe?.(page);

    const subset = subsetOf(parsed);
    const entry = (mode: 'match' | 'include') => (v: VersionRecord): RawEntry => ({
      fullUrl: `${opts.baseUrl}/${v.type}/${v.id}`,
      resource: subset ? subsetJson(v.json as string, subset) : (v.json as string),
      rest: { search: { mode } },
    });
    // With _summary=count the plan asks for no rows, so there are no entries.
    const entries: RawEntry[] = [...page.matches.map(entry('match')), ...page.included.map(entry('include'))];
    const notes = [];
    if (parsed.ignored.length > 0) {
      notes.push(issue('not-supported', `Unknown search parameters ignored: ${parsed.ignored.join(', ')}`, undefined, 'warning'));
    }
    if (page.includesTruncated) {
      notes.push(issue('too-costly', `Only the first ${parsed.plan.maxIncludes} included resources are returned`, undefined, 'warning'));
    }
    if (notes.length > 0) {
      entries.push(outcomeEntry(outcome(...notes)));
    }
    const link = pageLinks(`${opts.baseUrl}${opts.path ? `/${opts.path}` : ''}`, selfParams, {
      next: page.next && encodeCursor(page.next),
      previous: page.prev && encodeCursor(page.prev),
    });
    return bundleJson({ type: 'searchset', total: page.total, link }, entries);
  }

  private parse(types: string[], params: [string, string][], baseUrl: string, lenient: boolean): ParsedSearch {
    return parseSearch(types, params, {
      baseUrl,
      defaultCount: this.limits.defaultCount,
      maxCount: this.limits.maxCount,
      lenient,
      maxIncludes: MAX_INCLUDES,
    });
  }
}

function subsetOf(parsed: ParsedSearch): Subset | undefined {
  if (parsed.elements && parsed.elements.length > 0) {
    return { elements: parsed.elements };
  }
  if (parsed.summary === 'true' || parsed.summary === 'text' || parsed.summary === 'data') {
    return { summary: parsed.summary };
  }
  return undefined;
}
