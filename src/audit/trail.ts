import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import type { IndexEntry } from '../fhir/search/index-entry';
import { newId } from '../fhir/ids';
import { stampMeta } from '../fhir/versioning';
import type { ChainedWrite, ResourceStore } from '../store/port';
import { sealAuditEvent } from './chain';
import type { PendingAudit } from './event';

export interface AuditTrailDeps {
  store: ResourceStore;
  /** The app's indexer (search parameters and access entries), so the history is searchable and restricted like any resource. */
  indexer: { extract(resource: Resource): IndexEntry[] };
  now: () => number;
}

/**
 * Writes AuditEvents straight to the store (never through FhirService, so
 * writing one is never audited itself), each as the next link of its
 * chain. The store group-commits them with the other writes of the moment
 * and resolves only once they are durable: the answer waits for that.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class AuditTrail {
  constructor(private readonly deps: AuditTrailDeps) {}

  /** Appends the AuditEvents; rejects (and the request must fail) if any could not be made durable. */
  async record(audits: readonly PendingAudit[]): Promise<AuditEvent[]> {
    if (audits.length === 0) return [];
    const lastUpdated = new Date(this.deps.now()).toISOString();
    const events: AuditEvent[] = [];
    const writes: ChainedWrite[] = audits.map((a) => {
      const id = newId();
      const event = stampMeta({ ...a.event }, id, 1, lastUpdated);
      events.push(event);
      return {
        chain: a.chain,
        type: 'AuditEvent',
        id,
        lastUpdated,
        index: this.deps.indexer.extract(event),
        seal: (head) => sealAuditEvent(event, a.chain, head),
      };
    });
    await this.deps.store.appendChained(writes);
    return events;
  }
}
