import type { AuditEvent } from '@medplum/fhirtypes';
import type { ChainedWrite, ResourceStore } from '../store/port';
import { sealer } from './chain';
import type { PendingAudit } from './event';

export interface AuditTrailDeps {
  store: ResourceStore;
  now: () => number;
}

/**
 * Writes AuditEvents straight to the store (never through FhirService, so
 * writing one is never audited itself), each as the next link of its
 * chain: the audit log, one row per AuditEvent, outside the resource tables
 * and their search index (the access history reads the chain, history.ts).
 * The store group-commits them with the other writes of the moment and
 * resolves only once they are durable: the answer waits for that.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class AuditTrail {
  constructor(private readonly deps: AuditTrailDeps) {}

  /** Appends the AuditEvents; rejects (and the request must fail) if any could not be made durable. */
  async record(audits: readonly PendingAudit[]): Promise<void> {
    if (audits.length === 0) return;
    const lastUpdated = new Date(this.deps.now()).toISOString();
    const writes: ChainedWrite[] = audits.map((a) => {
      // The id and the link are set when the store knows the chain's head (sealer).
      const event: AuditEvent = { ...a.event, meta: { versionId: '1', lastUpdated } };
      return { chain: a.chain, seal: sealer(event, a.chain) };
    });
    await this.deps.store.appendChained(writes);
  }
}
