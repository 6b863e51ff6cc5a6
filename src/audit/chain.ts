import crypto from 'node:crypto';
import type { AuditEvent, Extension } from '@medplum/fhirtypes';
import type { ChainHead, ChainLink } from '../store/port';
import { CHAIN_EXTENSION } from './codes';

/**
 * SHA-256 (hex) of a record's JSON exactly as stored: the value the next
 * link carries. Both stores keep the text byte for byte (SQLite a TEXT
 * column, MongoDB a string field), so no canonical form is needed: any
 * change to the stored text, even one that means the same, breaks the link.
 */
export function linkHash(json: string): string {
  return crypto.createHash('sha256').update(json).digest('hex');
}

/** The chain link an AuditEvent carries (CHAIN_EXTENSION), if any. */
export function chainLinkOf(event: AuditEvent): { chain?: string; seq?: number; previous?: string } | undefined {
  const ext = event.extension?.find((e) => e.url === CHAIN_EXTENSION);
  if (!ext) return undefined;
  const part = (url: string) => ext.extension?.find((e) => e.url === url);
  return { chain: part('chain')?.valueString, seq: part('seq')?.valuePositiveInt, previous: part('previous')?.valueString };
}

/**
 * The AuditEvent as the n-th link of its chain, once the store knows the
 * head (see ResourceStore.appendChained): the link extension (chain, seq,
 * previous hash) and the id added, then hashed. The event is serialized
 * here, once, before the head is known; sealing, which the store does while
 * it holds the write lock, only appends the id and the link to that text
 * (the same text as serializing the whole sealed event, which would copy
 * and serialize it again inside the lock).
 */
export function sealer(event: AuditEvent, chain: string): (head: ChainHead | undefined) => { json: string; hash: string } {
  const { id: _id, extension, ...rest } = event;
  const others = (extension ?? []).filter((e) => e.url !== CHAIN_EXTENSION);
  const body = JSON.stringify(rest);
  const open = body.length > 2 ? `${body.slice(0, -1)},` : '{';
  return (head) => {
    const seq = (head?.seq ?? 0) + 1;
    const link: Extension = {
      url: CHAIN_EXTENSION,
      extension: [
        { url: 'chain', valueString: chain },
        { url: 'seq', valuePositiveInt: seq },
        ...(head ? [{ url: 'previous', valueString: head.hash }] : []),
      ],
    };
    const json = `${open}"id":${JSON.stringify(auditEventId(chain, seq))},"extension":${JSON.stringify([...others, link])}}`;
    return { json, hash: linkHash(json) };
  };
}

/**
 * The logical id of the AuditEvent at `seq` in `chain`: a tag of the chain
 * (the first 16 hex digits of its SHA-256, so a patient id of any length
 * fits in the 64 characters of an id) and the position. An AuditEvent is
 * found by its id without any index: its chain and position are in it.
 * @see https://hl7.org/fhir/R4/datatypes.html#id
 */
export function auditEventId(chain: string, seq: number): string {
  return `${chainTag(chain)}.${seq}`;
}

/** The chain position an AuditEvent id names, if `chain` is its chain. */
export function seqInChain(id: string, chain: string): number | undefined {
  const m = /^([0-9a-f]{16})\.([1-9]\d{0,9})$/.exec(id);
  return m && m[1] === chainTag(chain) ? Number(m[2]) : undefined;
}

/** Tags already computed: every audited request names its chain, and a DMP is read again and again. */
const tags = new Map<string, string>();

function chainTag(chain: string): string {
  let tag = tags.get(chain);
  if (tag === undefined) {
    tag = crypto.createHash('sha256').update(chain).digest('hex').slice(0, 16);
    if (tags.size >= 50_000) tags.clear();
    tags.set(chain, tag);
  }
  return tag;
}

/** Where a chain is broken, and why. */
export interface ChainBreak {
  seq: number;
  /** `AuditEvent/{id}` of the link found broken. */
  reference: string;
  reason: 'altered' | 'unlinked' | 'out-of-order' | 'unreadable';
}

/**
 * Checks consecutive links (in seq order, continuing from `previous`, the
 * last good link): each record hashes to the hash stored with its link, and
 * carries the previous link's hash and its own position. Returns the first
 * break, or undefined. Pure.
 */
export function firstBreak(chain: string, links: readonly ChainLink[], previous: ChainHead | undefined): ChainBreak | undefined {
  let prev = previous;
  for (const l of links) {
    const reference = `AuditEvent/${auditEventId(chain, l.seq)}`;
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (l.seq !== expectedSeq) return { seq: expectedSeq, reference, reason: 'out-of-order' };
    let event: AuditEvent;
    try {
      event = JSON.parse(l.json) as AuditEvent;
    } catch {
      return { seq: l.seq, reference, reason: 'unreadable' };
    }
    if (!event || event.resourceType !== 'AuditEvent') return { seq: l.seq, reference, reason: 'unreadable' };
    const link = chainLinkOf(event);
    if (linkHash(l.json) !== l.hash) return { seq: l.seq, reference, reason: 'altered' };
    if (!link || link.chain !== chain || link.seq !== l.seq || link.previous !== prev?.hash) return { seq: l.seq, reference, reason: 'unlinked' };
    prev = { seq: l.seq, hash: l.hash };
  }
  return undefined;
}
