import type { AuditEvent } from '@medplum/fhirtypes';
import { bundleJson, outcomeEntry, pageLinks, type RawEntry } from '../fhir/bundles';
import { outcome } from '../fhir/outcomes';
import type { ChainLink, ResourceStore } from '../store/port';
import { seqInChain } from './chain';
import { ignoredWarning, type HistoryQuery } from './history-query';

/** Links read per store call while filtering a chain. */
const BATCH = 200;
/** Most links one request reads (a filter matching almost nothing on a very long history): beyond, the page ends there with a next link. */
const MAX_SCANNED = 100_000;

/** One AuditEvent of a chain, as stored. */
export interface StoredAudit {
  seq: number;
  json: string;
  event: AuditEvent;
}

/**
 * The access history, answered from a patient's hash chain (the audit log):
 * a searchset of AuditEvents, newest first by default, filtered and paged
 * by position in the chain (stable while new AuditEvents are appended: a
 * page's `next` continues strictly past its last entry). `total` is exact:
 * the chain's length without filters, a count of the matches with
 * `_total=accurate`; otherwise, with filters, it is given only when the
 * page holds every match. Access is decided by FhirService before.
 * @see https://hl7.org/fhir/R4/search.html
 */
export class AuditHistory {
  constructor(private readonly store: ResourceStore) {}

  /** The searchset Bundle's JSON, and the AuditEvents it carries. */
  async search(chain: string, q: HistoryQuery, baseUrl: string): Promise<{ json: string; page: StoredAudit[] }> {
    const page: StoredAudit[] = [];
    let cursor = q.cursor;
    let more = false;
    let scanned = 0;
    let exhausted = false;
    scan: while (scanned < MAX_SCANNED) {
      const links = await this.links(chain, q.newestFirst, cursor, BATCH);
      for (const l of links) {
        scanned++;
        const event = JSON.parse(l.json) as AuditEvent;
        if (!q.matches(event)) {
          cursor = l.seq;
          continue;
        }
        if (page.length === q.count) {
          more = true;
          break scan;
        }
        page.push({ seq: l.seq, json: l.json, event });
        cursor = l.seq;
      }
      if (links.length < BATCH) {
        exhausted = true;
        break;
      }
    }
    // Stopped by the scan limit with matches possibly beyond: the client continues from where it stopped.
    if (!exhausted && !more) more = cursor !== undefined;
    const total = await this.total(chain, q, page.length, !more && q.cursor === undefined);
    const entries: RawEntry[] = page.map((a) => ({ fullUrl: `${baseUrl}/AuditEvent/${a.event.id}`, resource: a.json, rest: { search: { mode: 'match' } } }));
    const warning = ignoredWarning(q);
    if (warning) entries.push(outcomeEntry(outcome(warning)));
    const link = pageLinks(`${baseUrl}/AuditEvent`, q.linkParams, { next: more && cursor !== undefined ? String(cursor) : undefined });
    return { json: bundleJson({ type: 'searchset', ...(total === undefined ? {} : { total }), link }, entries), page };
  }

  /** The AuditEvent with this id in this chain, if any. */
  async read(chain: string, id: string): Promise<StoredAudit | undefined> {
    const seq = seqInChain(id, chain);
    if (seq === undefined) return undefined;
    const [link] = await this.store.chainLinks(chain, seq - 1, 1);
    return link && link.seq === seq ? { seq, json: link.json, event: JSON.parse(link.json) as AuditEvent } : undefined;
  }

  private links(chain: string, newestFirst: boolean, cursor: number | undefined, limit: number): Promise<ChainLink[]> {
    return newestFirst ? this.store.chainLinksBefore(chain, cursor, limit) : this.store.chainLinks(chain, cursor ?? 0, limit);
  }

  private async total(chain: string, q: HistoryQuery, onPage: number, pageHoldsAll: boolean): Promise<number | undefined> {
    if (!q.filtered) return (await this.store.chainHead(chain))?.seq ?? 0;
    if (pageHoldsAll) return onPage;
    if (!q.totalAccurate) return undefined;
    let n = 0;
    for (let after = 0; ; ) {
      const links = await this.store.chainLinks(chain, after, BATCH);
      for (const l of links) if (q.matches(JSON.parse(l.json) as AuditEvent)) n++;
      if (links.length < BATCH) return n;
      after = links[links.length - 1].seq;
    }
  }
}
