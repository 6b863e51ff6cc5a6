import type { ChainHead, ResourceStore } from '../store/port';
import { firstBreak, type ChainBreak } from './chain';

/** What the verification of one chain found. */
export interface ChainReport {
  chain: string;
  /** Links checked (all of them when the chain is whole). */
  links: number;
  /** The first broken link; absent when the chain is whole. */
  broken?: ChainBreak | { seq: number; reference?: string; reason: 'missing' };
}

/** Links read per store call while walking a chain. */
const PAGE = 500;

/**
 * Walks a chain from its first link to its head, recomputing each record's
 * hash: reports the first record changed, removed or out of place since it
 * was written (DMP-RULES.md § 8 item 11), or that the chain is whole.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export async function verifyChain(store: ResourceStore, chain: string): Promise<ChainReport> {
  // The walk stops at the head read first: links appended while it runs are left to the next verification.
  const head = await store.chainHead(chain);
  let prev: ChainHead | undefined;
  let links = 0;
  for (;;) {
    const page = (await store.chainLinks(chain, prev?.seq ?? 0, PAGE)).filter((l) => head !== undefined && l.seq <= head.seq);
    const broken = firstBreak(chain, page, prev);
    if (broken) return { chain, links: links + page.findIndex((l) => l.seq >= broken.seq), broken };
    if (page.length === 0) break;
    links += page.length;
    const last = page[page.length - 1];
    prev = { seq: last.seq, hash: last.hash };
  }
  // Links removed at the end (or the head moved without its record) leave the head ahead of the last link.
  if (head && (head.seq !== (prev?.seq ?? 0) || head.hash !== prev?.hash)) {
    return { chain, links, broken: { seq: (prev?.seq ?? 0) + 1, reason: 'missing' } };
  }
  return { chain, links };
}

/** Verifies every chain of the store, in key order; calls `report` for each. Returns the number of broken chains. */
export async function verifyAllChains(store: ResourceStore, report: (r: ChainReport) => void): Promise<number> {
  let after: string | undefined;
  let broken = 0;
  for (;;) {
    const chains = await store.listChains(after, 200);
    if (chains.length === 0) return broken;
    for (const chain of chains) {
      const r = await verifyChain(store, chain);
      if (r.broken) broken++;
      report(r);
    }
    after = chains[chains.length - 1];
  }
}
