/**
 * Builders shared by the hash-chain suites (audit-chain.test.ts,
 * mongo-chains.test.ts): chained writes whose seal records every head it was
 * given and embeds the previous head in the record, and a verifier that
 * recomputes the chain from what the store returns.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
import crypto from 'node:crypto';
import type { ChainedWrite, ChainHead, ChainLink, ResourceStore } from '../../src/store/port';

export const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** A chained write that remembers what its seal was called with. */
export type TestChainedWrite = ChainedWrite & {
  /** The id the record carries (to tell links apart). */
  id: string;
  /** Every head seal was given, in call order (the store keeps the last result). */
  calls: (ChainHead | undefined)[];
  /** The last result of seal. */
  sealed?: { json: string; hash: string };
};

/** The record JSON for `id` given the head: the previous head is part of it, as in the audit trail. */
export function recordJson(id: string, head: ChainHead | undefined, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ resourceType: 'AuditEvent', id, prev: head ?? null, ...extra });
}

/** The hash of a link: the previous hash, then the record. */
export const linkHash = (head: ChainHead | undefined, json: string): string => sha256(`${head?.hash ?? ''}\n${json}`);

/** An AuditEvent-like record `id` for `chain`. */
export function chained(chain: string, id: string): TestChainedWrite {
  const w: TestChainedWrite = {
    chain,
    id,
    calls: [],
    seal(head) {
      w.calls.push(head === undefined ? undefined : { ...head });
      const json = recordJson(id, head);
      w.sealed = { json, hash: linkHash(head, json) };
      return w.sealed;
    },
  };
  return w;
}

/** The id inside a link's record. */
export const idOf = (l: ChainLink): string => (JSON.parse(l.json) as { id: string }).id;

/** Every link of a chain, read in pages of `page` (so that paging by afterSeq is exercised). */
export async function allLinks(store: ResourceStore, chain: string, page = 7): Promise<ChainLink[]> {
  const out: ChainLink[] = [];
  for (;;) {
    const links = await store.chainLinks(chain, out.length === 0 ? 0 : out[out.length - 1].seq, page);
    out.push(...links);
    if (links.length < page) {
      return out;
    }
  }
}

/**
 * The first problem of a chain as the store returns it, or undefined when it
 * is whole: seqs 1..n without gap, each record carrying the previous head
 * (so each seal got the true previous link), each hash recomputable from the
 * stored record.
 */
export function chainProblem(links: readonly ChainLink[]): string | undefined {
  let prev: ChainHead | undefined;
  for (const [i, l] of links.entries()) {
    if (l.seq !== i + 1) return `link ${i} has seq ${l.seq}`;
    const body = JSON.parse(l.json) as { prev: ChainHead | null };
    if (JSON.stringify(body.prev) !== JSON.stringify(prev ?? null)) return `seq ${l.seq} was sealed over ${JSON.stringify(body.prev)}`;
    if (l.hash !== linkHash(prev, l.json)) return `seq ${l.seq}: hash does not match the stored record`;
    prev = { seq: l.seq, hash: l.hash };
  }
  return undefined;
}
