import { base64Content } from '../binary/base64-content';
import { errors, type FhirError } from '../outcomes';
import { nameEntry } from '../bundle/entries';

/** The MHD list type of a SubmissionSet (and of a Folder). @see https://profiles.ihe.net/ITI/MHD/CodeSystem-MHDlistTypes.html */
export const MHD_LIST_TYPES = 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes';
/** The profile of an ITI-65 answer. @see https://profiles.ihe.net/ITI/MHD/StructureDefinition-IHE.MHD.ProvideDocumentBundleResponse.html */
export const PROVIDE_RESPONSE_PROFILE = 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.ProvideDocumentBundleResponse';

type RawEntry = {
  fullUrl?: unknown;
  resource?: Record<string, unknown>;
  request?: { method?: unknown; url?: unknown };
};
type Attachment = { url?: unknown; data?: unknown; size?: unknown; hash?: unknown };

/** A transaction's entries once the document sharing rules have looked at them. */
export interface DocumentBundle {
  /** The entries to run: the request's, plus one PATCH per replaced document the request did not mark superseded itself. */
  entries: unknown[];
  /** An ITI-65 Provide Document Bundle (it holds a SubmissionSet List): its answer carries the MHD response profile. */
  provide: boolean;
}

/**
 * The checks and additions of IHE MHD ITI-65 as PDSm and the DMP profile it
 * (DMP-RULES.md § 3), done on the request's entries before the transaction
 * runs them, so that a refusal stores nothing:
 * - each DocumentReference attachment whose `url` is a Binary of the bundle
 *   (or that carries its bytes in `data`) must agree with those bytes:
 *   `size` is their length and `hash` their SHA-1 (base64), when given;
 *   otherwise 422 naming the entry;
 * - a created DocumentReference that `replaces` another
 *   (`relatesTo.code = replaces`, target `DocumentReference/id`) makes the
 *   old one `superseded` in the same transaction: when the request does not
 *   patch the old document itself (the PDSm examples do, with an
 *   IHE.MHD.Patch.Parameters entry), a PATCH entry is appended. It runs
 *   under the caller's rights like any entry, so only the old document's
 *   author may replace it (access/write.ts: a status change is the author's).
 * @see https://profiles.ihe.net/ITI/MHD/ITI-65.html
 * @see https://hl7.org/fhir/R4/datatypes.html#Attachment
 */
export function prepareDocumentBundle(raw: readonly unknown[]): DocumentBundle {
  const entries = raw as readonly RawEntry[];
  // The base64 text of each Binary, decoded only if a document's attachment points at it.
  const dataOf = new Map<string, string>();
  for (const e of entries) {
    const r = e?.resource;
    if (r?.resourceType === 'Binary' && typeof e.fullUrl === 'string' && typeof r.data === 'string') dataOf.set(e.fullUrl, r.data);
  }
  giveBinariesTheirDocument(entries);
  const targeted = new Set(entries.map((e) => (typeof e?.request?.url === 'string' ? e.request.url.split('?')[0] : '')));
  const added: unknown[] = [];
  entries.forEach((e, index) => {
    const r = e?.resource;
    if (r?.resourceType !== 'DocumentReference') return;
    checkAttachments(r, dataOf, index, `${String(e.request?.method)} ${String(e.request?.url)}`);
    if (e.request?.method !== 'POST') return;
    for (const old of replacedDocuments(r)) {
      if (targeted.has(old)) continue;
      targeted.add(old);
      added.push(supersede(old));
    }
  });
  const provide = entries.some((e) => e?.resource?.resourceType === 'List' && isSubmissionSet(e.resource));
  return { entries: added.length > 0 ? [...raw, ...added] : [...raw], provide };
}

/**
 * A Binary of the bundle that a DocumentReference's attachment points to,
 * and that names no `securityContext`, gets that document as its security
 * context (its `fullUrl`, rewritten with the other references): the Binary
 * is then read through the document, under its labels (access/binary.ts),
 * whoever reads it.
 * @see https://hl7.org/fhir/R4/binary-definitions.html#Binary.securityContext
 */
function giveBinariesTheirDocument(entries: readonly RawEntry[]): void {
  const binaries = new Map<string, Record<string, unknown>>();
  for (const e of entries) {
    if (e?.resource?.resourceType === 'Binary' && typeof e.fullUrl === 'string') binaries.set(e.fullUrl, e.resource);
  }
  for (const e of entries) {
    const r = e?.resource;
    if (r?.resourceType !== 'DocumentReference' || typeof e.fullUrl !== 'string' || !Array.isArray(r.content)) continue;
    for (const c of r.content as { attachment?: Attachment }[]) {
      const bin = typeof c?.attachment?.url === 'string' ? binaries.get(c.attachment.url) : undefined;
      if (bin && bin.securityContext === undefined) bin.securityContext = { reference: e.fullUrl };
    }
  }
}

/** The answer of an ITI-65 transaction, claiming the MHD response profile. */
export function withProvideResponseProfile(json: string): string {
  const head = '{"resourceType":"Bundle",';
  if (!json.startsWith(head)) return json;
  return `${head}"meta":{"profile":[${JSON.stringify(PROVIDE_RESPONSE_PROFILE)}]},${json.slice(head.length)}`;
}

function checkAttachments(doc: Record<string, unknown>, dataOf: ReadonlyMap<string, string>, index: number, what: string): void {
  const content = Array.isArray(doc.content) ? (doc.content as { attachment?: Attachment }[]) : [];
  content.forEach((c, i) => {
    const a = c?.attachment;
    if (!a) return;
    const where = `DocumentReference.content[${i}].attachment`;
    if (a.size === undefined && a.hash === undefined) return;
    const data = typeof a.data === 'string' ? a.data : typeof a.url === 'string' ? dataOf.get(a.url) : undefined;
    if (data === undefined) return;
    const content = base64Content(data);
    const bytes = content.bytes;
    const source = typeof a.data === 'string' ? 'its data' : `the Binary ${String(a.url)}`;
    if (a.size !== undefined && a.size !== bytes.length) {
      throw named(errors.unprocessable(`The attachment's size (${String(a.size)}) is not the size of ${source} (${bytes.length} bytes)`, `${where}.size`), index, what);
    }
    if (a.hash !== undefined) {
      const sha1 = content.sha1();
      if (a.hash !== sha1) {
        throw named(errors.unprocessable(`The attachment's hash (${String(a.hash)}) is not the SHA-1 of ${source} (${sha1})`, `${where}.hash`), index, what);
      }
    }
  });
}

function named(err: FhirError, index: number, what: string): FhirError {
  return nameEntry(err, index, what);
}

/** `DocumentReference/id` of each document this one replaces (`relatesTo.code = replaces`, DMP-RULES.md § 3 rule 6). */
export function replacedDocuments(doc: unknown): string[] {
  const relatesTo = typeof doc === 'object' && doc !== null ? (doc as { relatesTo?: unknown }).relatesTo : undefined;
  const rel = Array.isArray(relatesTo) ? (relatesTo as { code?: unknown; target?: { reference?: unknown } }[]) : [];
  return rel
    .filter((x) => x?.code === 'replaces' && typeof x.target?.reference === 'string')
    .map((x) => x.target?.reference as string)
    .filter((ref) => /^DocumentReference\/[A-Za-z0-9\-.]{1,64}$/.test(ref));
}

/** The PATCH entry that marks a replaced document superseded (the shape of IHE.MHD.Patch.Parameters). */
function supersede(ref: string): unknown {
  return {
    resource: {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'operation',
          part: [
            { name: 'type', valueCode: 'replace' },
            { name: 'path', valueString: 'DocumentReference.status' },
            { name: 'value', valueCode: 'superseded' },
          ],
        },
      ],
    },
    request: { method: 'PATCH', url: ref },
  };
}

function isSubmissionSet(list: Record<string, unknown>): boolean {
  const codings = ((list.code as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? []);
  return codings.some((c) => c.system === MHD_LIST_TYPES && c.code === 'submissionset');
}
