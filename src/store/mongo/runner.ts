import type { Collection, Document, Sort } from 'mongodb';
import type { CurrentDoc } from './documents';
import type { Filter } from './filter';
import { matches, relax } from './filter-eval';

/**
 * Most resources a chain, `_has` or emulated sub-query may resolve to before
 * the search is refused (a clear error rather than an unbounded `$in`).
 */
export const SUBQUERY_CAP = 10_000;

export interface FindOptions {
  sort?: Sort;
  /** Most documents returned; absent: all. */
  limit?: number;
  /** Fields to return (MongoDB projection); the emulated path returns whole documents. */
  projection?: Document;
}

/**
 * Runs compiled search filters over the current-resources collection. On
 * MongoDB the filter runs as is. On FerretDB 1.x (no `$elemMatch` over
 * sub-documents) the server gets the {@link relax}ed superset, still sorted
 * by the server, and the adapter keeps the documents that match the exact
 * filter (filter-eval.ts), stopping as soon as the page is full.
 * @see https://hl7.org/fhir/R4/search.html
 */
export class QueryRunner {
  constructor(
    readonly resources: Collection<CurrentDoc>,
    /** False on FerretDB: evaluate `$elemMatch` here. */
    readonly native: boolean,
  ) {}

  async find(filter: Filter, opts: FindOptions = {}): Promise<CurrentDoc[]> {
    if (opts.limit === 0) {
      return [];
    }
    if (this.native) {
      const cursor = this.resources.find(filter, { sort: opts.sort, projection: opts.projection });
      if (opts.limit !== undefined) {
        cursor.limit(opts.limit);
      }
      return cursor.toArray() as Promise<CurrentDoc[]>;
    }
    const out: CurrentDoc[] = [];
    const cursor = this.resources.find(relax(filter), { sort: opts.sort });
    try {
      for await (const doc of cursor) {
        if (matches(filter, doc)) {
          out.push(doc);
          if (opts.limit !== undefined && out.length >= opts.limit) {
            break;
          }
        }
      }
    } finally {
      await cursor.close();
    }
    return out;
  }

  /** Documents matching `filter`, counting no further than `limit` when given. */
  async count(filter: Filter, limit?: number): Promise<number> {
    if (this.native) {
      return this.resources.countDocuments(filter, limit === undefined ? {} : { limit });
    }
    let n = 0;
    for await (const doc of this.resources.find(relax(filter), { projection: { res: 0, raw: 0 } })) {
      if (matches(filter, doc) && ++n === limit) {
        break;
      }
    }
    return n;
  }

  /**
   * The distinct local targets (`Type/id`) of the `param` reference entries
   * of the documents matching `filter`, at most `cap` + 1 (the caller
   * decides what exceeding the cap means). Undefined on FerretDB when more
   * than `cap` documents match (they are matched here, one by one).
   */
  async referenceTargets(filter: Filter, param: string, cap: number): Promise<string[] | undefined> {
    let first: Filter = filter;
    if (!this.native) {
      // The pipeline's $match cannot hold $elemMatch on FerretDB: match here,
      // then run the same unwind/group stages over the matching ids.
      const ids = await this.find(filter, { projection: { _id: 1 }, limit: cap + 1 });
      if (ids.length > cap) {
        return undefined;
      }
      first = { _id: { $in: ids.map((d) => d._id) } };
    }
    const rows = await this.resources
      .aggregate<{ _id: string }>([
        { $match: first },
        { $unwind: '$idx' },
        { $match: { 'idx.p': { $eq: param }, 'idx.k': { $eq: 'reference' }, 'idx.type': { $ne: null } } },
        { $group: { _id: '$idx.ref' } },
        { $limit: cap + 1 },
      ])
      .toArray();
    return rows.map((r) => r._id);
  }
}
