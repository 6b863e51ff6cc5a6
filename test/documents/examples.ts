import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { correctedForPdsm311 } from '../../bench/documents';

/** Copies of the public PDSm / PDSm-for-DMP examples (fixtures/documents, unchanged; see fixtures/README.md). */
export const EXAMPLES = join(__dirname, '..', '..', 'fixtures', 'documents');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fresh copy of a reference example (`pdsm/…`, `pdsm4dmp/…`, `patch/…`). */
export function example(path: string): Json {
  return JSON.parse(readFileSync(join(EXAMPLES, path), 'utf8')) as Json;
}

export const TD2 = 'pdsm4dmp/Bundle-example-td2-iti65-lot-soumission.json';
export const TD2_1 = 'pdsm4dmp/Bundle-example-td2-1-remplacement.json';
export const PDSM_REPLACE = 'pdsm/Bundle-bundle-exemple-comprehensiveprovidedocument-replace.json';
/** The INS the pdsm4dmp examples name by conditional reference. */
export const TD2_INS = '123456789012345';

const resources = (b: Json, type: string): Json[] => b.entry.map((e: Json) => e.resource).filter((r: Json) => r.resourceType === type);

/** The three corrections the pdsm4dmp examples need for PDSm 3.1.1 (see bench/documents.ts, which shares them). */
export const corrected3_1_1 = correctedForPdsm311;

/**
 * The PDSm replace example: its attachment `hash` (qvTGHdzF6KLavt4PO0gs2a6pQ00=)
 * is the SHA-1 of "hello" while its Binary holds "Hello", and its
 * masterIdentifier lacks the `use` MHD requires. Both are corrected here.
 */
export function correctedPdsmReplace(b: Json): Json {
  const doc = resources(b, 'DocumentReference')[0];
  const bin = resources(b, 'Binary')[0];
  doc.content[0].attachment.hash = createHash('sha1').update(Buffer.from(bin.data, 'base64')).digest('base64');
  doc.masterIdentifier.use = 'usual';
  return b;
}

/** The SHA-1 (base64) of bytes, as Attachment.hash carries it. */
export const sha1 = (bytes: Buffer): string => createHash('sha1').update(bytes).digest('base64');

/** A small valid ITI-65 bundle (the corrected td2) for `subject`, with its own document content and master identifier. */
export function provideBundle(subject: string, text: string, opts: { replaces?: string; masterId?: string } = {}): Json {
  const b = corrected3_1_1(example(TD2));
  const bytes = Buffer.from(text);
  for (const e of b.entry) {
    const r = e.resource;
    if (r.subject) r.subject = { reference: subject };
    if (r.resourceType === 'Binary') r.data = bytes.toString('base64');
    if (r.resourceType === 'DocumentReference') {
      r.content[0].attachment.size = bytes.length;
      r.content[0].attachment.hash = sha1(bytes);
      r.masterIdentifier.value = opts.masterId ?? `urn:oid:1.2.250.1.999.${Math.floor(Math.random() * 1e9)}`;
      r.description = text;
      if (opts.replaces) r.relatesTo = [{ code: 'replaces', target: { reference: opts.replaces } }];
    }
  }
  return b;
}
