import type { Communication, Resource } from '@medplum/fhirtypes';
import { newId } from '../../fhir/ids';
import type { IndexEntry } from '../../fhir/search/index-entry';
import type { SearchPlan } from '../../fhir/search/plan';
import { nextLastUpdated, stampMeta } from '../../fhir/versioning';
import { VersionConflict, type ResourceStore, type VersionRecord } from '../../store/port';
import { DUE_PARAM } from './codes';
import { dueAt, isPending, uniqueKeysOf } from './communication';

export interface OutboxDeps {
  store: ResourceStore;
  /** The app's indexer (search parameters plus the access entries, so the patient finds them and nobody else does). */
  indexer: { extract(r: Resource): IndexEntry[] };
  now: () => number;
}

/**
 * The notification outbox: the Communications themselves, written straight
 * to the store (server writes: never through FhirService, never audited as
 * API calls). Every change is a new version by compare-and-set, so of
 * several dispatchers on one database exactly one wins each step.
 * @see https://hl7.org/fhir/R4/communication.html
 */
export class Outbox {
  constructor(private readonly deps: OutboxDeps) {}

  /**
   * Stores a new notification (version 1). Rejects with the store's
   * UniqueConflict when another holds its idempotency key (already notified).
   */
  async add(c: Communication): Promise<VersionRecord> {
    return this.write('POST', undefined, c, newId());
  }

  /**
   * The next version of a notification, if `current` is still its current
   * version; undefined when another writer got there first.
   */
  async replace(current: VersionRecord, next: Communication): Promise<VersionRecord | undefined> {
    try {
      return await this.write('PUT', current, next, current.id);
    } catch (err) {
      if (err instanceof VersionConflict) return undefined;
      throw err;
    }
  }

  /** Pending notifications due now, soonest first: one indexed search on {@link DUE_PARAM}. */
  async due(limit: number): Promise<VersionRecord[]> {
    const plan: SearchPlan = {
      types: ['Communication'],
      where: [{ kind: 'entry', entryKind: 'date', param: DUE_PARAM, predicate: [[{ field: 'low', op: 'le', value: this.deps.now() }]] }],
      sort: [{ param: DUE_PARAM, descending: false }],
      count: limit,
      total: false,
      include: [],
      revinclude: [],
      maxIncludes: 0,
    };
    return (await this.deps.store.search(plan)).matches;
  }

  private async write(method: 'POST' | 'PUT', previous: VersionRecord | undefined, c: Communication, id: string): Promise<VersionRecord> {
    const versionId = (previous?.versionId ?? 0) + 1;
    const lastUpdated = nextLastUpdated(previous?.lastUpdated, this.deps.now());
    const stamped = stampMeta(c, id, versionId, lastUpdated);
    const json = JSON.stringify(stamped);
    const index = [...this.deps.indexer.extract(stamped)];
    if (isPending(stamped)) {
      const at = dueAt(stamped);
      index.push({ kind: 'date', param: DUE_PARAM, low: at, high: at });
    }
    const record: VersionRecord = { type: 'Communication', id, versionId, lastUpdated, method, deleted: false, json };
    await this.deps.store.write({ ...record, expectedVersion: previous?.versionId ?? 0, index, uniqueKeys: uniqueKeysOf(stamped) });
    return record;
  }
}
