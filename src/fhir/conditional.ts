import type { VersionRecord } from '../store/port';
import type { AccessGuard } from './access-guard';
import type { RequestContext } from './context';
import { errors } from './outcomes';
import type { Restriction } from './search/restrict';
import type { SearchRunner } from './search-runner';
import { storedResource } from './versioning';
import type { WriteResult } from './writer';

/**
 * The matches of conditional interactions (create with If-None-Exist,
 * update, patch, delete by criteria), among the resources the caller may
 * see only: criteria never act on, nor reveal, a hidden resource.
 * @see https://hl7.org/fhir/R4/http.html#cond-update
 */
export class ConditionalMatcher {
  constructor(
    private readonly search: SearchRunner,
    private readonly access: AccessGuard | undefined,
  ) {}

  /** The single visible match of If-None-Exist criteria as a write result (200), undefined for none, 412 for several. */
  async ifNoneExist(ctx: RequestContext, type: string, criteria: [string, string][], exclude?: ReadonlySet<string>): Promise<WriteResult | undefined> {
    const matches = await this.matching(ctx, type, criteria, exclude);
    if (matches.length > 1) {
      throw errors.multipleMatches('If-None-Exist matched more than one resource');
    }
    return matches.length === 1 ? { resource: storedResource(matches[0]), created: false } : undefined;
  }

  /**
   * The resource that won a conditional-create race on a unique key. On
   * MongoDB the winner's version may be committed a moment before searches
   * see it, so the match is tried a few times.
   */
  async raceWinner(ctx: RequestContext, type: string, criteria: [string, string][]): Promise<WriteResult | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const match = await this.ifNoneExist(ctx, type, criteria);
      if (match) return match;
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
    return undefined;
  }

  /** The single current match of conditional criteria, undefined for none, 412 for several. */
  async single(ctx: RequestContext, type: string, criteria: [string, string][], what: string, exclude?: ReadonlySet<string>): Promise<VersionRecord | undefined> {
    if (criteria.length === 0) {
      throw errors.badRequest(`A conditional ${what} needs search criteria`);
    }
    const matches = await this.matching(ctx, type, criteria, exclude);
    if (matches.length > 1) {
      throw errors.multipleMatches(`The conditional ${what} criteria match more than one resource`);
    }
    return matches[0];
  }

  /**
   * Up to two visible matches, leaving out `exclude` (`Type/id` of resources
   * a transaction Bundle deletes before this entry, per its processing order).
   */
  private async matching(ctx: RequestContext, type: string, criteria: [string, string][], exclude?: ReadonlySet<string>): Promise<VersionRecord[]> {
    const restriction = await this.restriction(ctx, type, criteria);
    const found = await this.search.matches(type, criteria, ctx.baseUrl, restriction, 2 + (exclude?.size ?? 0));
    return found.filter((v) => !exclude?.has(`${v.type}/${v.id}`)).slice(0, 2);
  }

  private async restriction(ctx: RequestContext, type: string, criteria: [string, string][]): Promise<Restriction | undefined> {
    return this.access?.searchRestriction(ctx, [type], criteria);
  }
}
